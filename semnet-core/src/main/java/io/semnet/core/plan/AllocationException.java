package io.semnet.core.plan;

/**
 * An allocation could not be made: the address is in use or quarantined, outside the range, or the
 * pool is exhausted. The allocator is left exactly as it was before the call.
 */
public final class AllocationException extends RuntimeException {
  public AllocationException(String message) {
    super(message);
  }
}
