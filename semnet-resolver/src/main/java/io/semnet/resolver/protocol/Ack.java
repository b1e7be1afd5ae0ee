package io.semnet.resolver.protocol;

/** Empty positive reply. */
public record Ack() implements ControlMessage {
  @Override
  public String type() {
    return "ack";
  }
}
