# Client of a migrating instance: a UDP stream (sequence number + send time, one datagram every
# interval) and one TCP connection exchanging request/response lines, both for `duration` seconds
# or until SIGTERM.
# Prints one line per datagram ("U seq sent_ns recv_ns" for the first echo, "L seq sent_ns" if none
# came back), then totals.
# Times are time.monotonic_ns(), the same clock as Java's System.nanoTime() on Linux.
import signal, socket, struct, sys, threading, time

target, udp_port, tcp_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
duration, interval = float(sys.argv[4]), float(sys.argv[5])
done = threading.Event()
stop = threading.Event()  # SIGTERM ends the stream early (then stragglers and totals as usual)
signal.signal(signal.SIGTERM, lambda *_: stop.set())
first = {}
dups = 0
reordered = 0
top = -1

us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
us.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE
us.settimeout(0.2)
us.connect((target, udp_port))

def rx():
    global dups, reordered, top
    while not done.is_set():
        try:
            d = us.recv(64)
        except socket.timeout:
            continue
        except OSError:
            continue  # an ICMP error on the connected socket
        now = time.monotonic_ns()
        seq, sent = struct.unpack("!qq", d[:16])
        if not first:
            print("E %d" % now, flush=True)
        if seq in first:
            dups += 1
            continue
        if seq < top:
            reordered += 1
        top = max(top, seq)
        first[seq] = (sent, now)

tcp = {"ok": 0, "last": 0, "error": "", "resets": 0, "gap": 0}

def tcp_loop():
    try:
        c = socket.create_connection((target, tcp_port), timeout=10)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        f = c.makefile("rb")
        n = 0
        prev = time.monotonic_ns()
        while not done.is_set():
            c.sendall(b"req %d\n" % n)
            line = f.readline()
            if line != b"req %d\n" % n:
                tcp["error"] = "bad response %r" % line
                return
            now = time.monotonic_ns()
            tcp["gap"] = max(tcp["gap"], now - prev)
            prev = now
            if tcp["ok"] == 0:
                print("C %d" % now, flush=True)
            tcp["ok"] += 1
            tcp["last"] = now
            n += 1
            time.sleep(0.02)
        c.close()
    except ConnectionResetError as e:
        tcp["resets"] += 1
        tcp["error"] = "reset: %s" % e
    except Exception as e:
        tcp["error"] = "%s: %s" % (type(e).__name__, e)

threading.Thread(target=rx, daemon=True).start()
tt = threading.Thread(target=tcp_loop, daemon=True)
tt.start()
sent = 0
sent_at = []
start = time.monotonic_ns()
nxt = start
end = start + int(duration * 1e9)
step = int(interval * 1e9)
print("start %d" % start, flush=True)
while True:
    now = time.monotonic_ns()
    if now >= end or stop.is_set():
        break
    if now < nxt:
        time.sleep((nxt - now) / 1e9)
        continue
    t = time.monotonic_ns()
    sent_at.append(t)
    try:
        us.send(struct.pack("!qq", sent, t))
    except OSError:
        pass  # counted as sent and lost
    sent += 1
    nxt += step
time.sleep(1.0)  # stragglers
done.set()
tt.join(3)
for seq in range(sent):
    if seq in first:
        print("U %d %d %d" % (seq, sent_at[seq], first[seq][1]))
    else:
        print("L %d %d" % (seq, sent_at[seq]))
print("S %d" % sent)
print("D %d" % dups)
print("R %d" % reordered)
print("T %d %d %d %d %s" % (tcp["ok"], tcp["last"], tcp["resets"], tcp["gap"], tcp["error"] or "ok"), flush=True)
