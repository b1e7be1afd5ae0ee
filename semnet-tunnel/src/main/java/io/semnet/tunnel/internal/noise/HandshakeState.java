package io.semnet.tunnel.internal.noise;

import io.semnet.tunnel.CipherSuite;
import java.util.Arrays;
import java.util.function.Predicate;

/**
 * A Noise HandshakeState (spec rev 34, section 5.3) for the IK pattern only:
 *
 * <pre>
 *   &lt;- s
 *   ...
 *   -&gt; e, es, s, ss
 *   &lt;- e, ee, se
 * </pre>
 *
 * with a prologue and payloads, 25519, SHA256 and AESGCM or ChaChaPoly. The ephemeral key can be
 * injected (test vectors); otherwise a fresh one is generated when it is first needed.
 *
 * <p>{@link #readMessage} returns null for any message that does not authenticate, is too short or
 * carries a degenerate key; the state is then failed and refuses further use, as the spec asks.
 * The responder can refuse the initiator's static key as soon as it is decrypted, before the
 * second DH ({@link #acceptRemoteStatic}). Not thread-safe; one handshake per instance.
 */
public final class HandshakeState {
  private static final int MSG1_MIN = Noise.DHLEN + Noise.DHLEN + Noise.TAGLEN + Noise.TAGLEN;
  private static final int MSG2_MIN = Noise.DHLEN + Noise.TAGLEN;

  private final boolean initiator;
  private final SymmetricState ss;
  private final DhKeyPair s;
  private DhKeyPair e;
  private byte[] rs;
  private byte[] re;
  private int step;
  private boolean failed;
  private Runnable onDh = () -> {};
  private Predicate<byte[]> acceptRemoteStatic = k -> true;

  private HandshakeState(CipherSuite suite, boolean initiator, byte[] prologue, DhKeyPair s, byte[] rs, DhKeyPair e) {
    this.initiator = initiator;
    this.ss = new SymmetricState(suite, Noise.protocolName(suite));
    this.s = s;
    this.rs = rs;
    this.e = e;
    ss.mixHash(prologue);
    // Pre-message "<- s": both sides hash the responder's static key.
    ss.mixHash(initiator ? rs : s.publicKeyUnsafe());
  }

  /** The initiator, knowing the responder's static key {@code rs}; {@code e} may be null (fresh). */
  public static HandshakeState initiator(CipherSuite suite, byte[] prologue, DhKeyPair s, byte[] rs, DhKeyPair e) {
    if (rs == null || rs.length != Noise.DHLEN) {
      throw new IllegalArgumentException("the responder's static key has 32 bytes");
    }
    return new HandshakeState(suite, true, prologue, s, rs.clone(), e);
  }

  /** The responder; {@code e} may be null (fresh). */
  public static HandshakeState responder(CipherSuite suite, byte[] prologue, DhKeyPair s, DhKeyPair e) {
    return new HandshakeState(suite, false, prologue, s, null, e);
  }

  /** Runs {@code hook} before every X25519 agreement (for counting). */
  public HandshakeState onDh(Runnable hook) {
    this.onDh = hook;
    return this;
  }

  /** Responder: refuse the handshake when the decrypted initiator static key fails {@code check}. */
  public HandshakeState acceptRemoteStatic(Predicate<byte[]> check) {
    this.acceptRemoteStatic = check;
    return this;
  }

  /** Writes the next message (this side's turn) carrying {@code payload}. */
  public byte[] writeMessage(byte[] payload) {
    requireTurn(true);
    byte[] ePub;
    byte[] rest;
    if (step == 0) { // -> e, es, s, ss
      ePub = ephemeral();
      ss.mixHash(ePub);
      mixOrThrow(e.dh(rs));
      byte[] encS = ss.encryptAndHash(s.publicKeyUnsafe());
      mixOrThrow(s.dh(rs));
      rest = concat(encS, ss.encryptAndHash(payload));
    } else { // <- e, ee, se
      ePub = ephemeral();
      ss.mixHash(ePub);
      mixOrThrow(e.dh(re));
      mixOrThrow(e.dh(rs));
      rest = ss.encryptAndHash(payload);
    }
    step++;
    return concat(ePub, rest);
  }

  /** Reads the next message (the other side's turn): its payload, or null if it is refused. */
  public byte[] readMessage(byte[] message) {
    requireTurn(false);
    failed = true; // cleared on success
    if (step == 0) { // -> e, es, s, ss
      if (message.length < MSG1_MIN) {
        return null;
      }
      re = Arrays.copyOfRange(message, 0, Noise.DHLEN);
      ss.mixHash(re);
      if (!mix(s.dh(re))) {
        return null;
      }
      byte[] rsPlain = ss.decryptAndHash(Arrays.copyOfRange(message, Noise.DHLEN, 2 * Noise.DHLEN + Noise.TAGLEN));
      if (rsPlain == null || !acceptRemoteStatic.test(rsPlain.clone())) {
        return null;
      }
      rs = rsPlain;
      if (!mix(s.dh(rs))) {
        return null;
      }
      byte[] payload = ss.decryptAndHash(Arrays.copyOfRange(message, 2 * Noise.DHLEN + Noise.TAGLEN, message.length));
      if (payload == null) {
        return null;
      }
      step++;
      failed = false;
      return payload;
    }
    // <- e, ee, se
    if (message.length < MSG2_MIN) {
      return null;
    }
    re = Arrays.copyOfRange(message, 0, Noise.DHLEN);
    ss.mixHash(re);
    if (!mix(e.dh(re)) || !mix(s.dh(re))) {
      return null;
    }
    byte[] payload = ss.decryptAndHash(Arrays.copyOfRange(message, Noise.DHLEN, message.length));
    if (payload == null) {
      return null;
    }
    step++;
    failed = false;
    return payload;
  }

  /** Whether both messages have been written/read. */
  public boolean isComplete() {
    return step == 2 && !failed;
  }

  /** The handshake hash (a copy); final once complete. */
  public byte[] handshakeHash() {
    return ss.handshakeHash();
  }

  /** The remote static key (a copy): known from the start by the initiator, after message 1 by the responder. */
  public byte[] remoteStatic() {
    return rs == null ? null : rs.clone();
  }

  /** The local ephemeral public key, or null before it exists. */
  public byte[] localEphemeral() {
    return e == null ? null : e.publicKey();
  }

  /** Split after completion: [initiator→responder, responder→initiator]. */
  public CipherState[] split() {
    if (!isComplete()) {
      throw new IllegalStateException("handshake not complete");
    }
    return ss.split();
  }

  private void requireTurn(boolean writing) {
    if (failed) {
      throw new IllegalStateException("handshake failed earlier");
    }
    if (step >= 2) {
      throw new IllegalStateException("handshake already complete");
    }
    boolean myTurnToWrite = (step == 0) == initiator;
    if (myTurnToWrite != writing) {
      throw new IllegalStateException(writing ? "not this side's turn to write" : "not this side's turn to read");
    }
  }

  private byte[] ephemeral() {
    if (e == null) {
      e = DhKeyPair.generate();
    }
    return e.publicKey();
  }

  /** MixKey of a DH result; false (state failed) if the agreement was degenerate. */
  private boolean mix(byte[] dh) {
    onDh.run();
    if (dh == null) {
      failed = true;
      return false;
    }
    ss.mixKey(dh);
    return true;
  }

  private void mixOrThrow(byte[] dh) {
    if (!mix(dh)) {
      throw new IllegalStateException("degenerate X25519 result: the remote key is of small order");
    }
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
