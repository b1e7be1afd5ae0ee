package io.semnet.core.node;

/**
 * A layer of a node (packet I/O, translator, tunnel, resolver, name responder) with a lifecycle
 * driven by {@link SemnetNode}: started once, in dependency order, and closed once, in reverse.
 */
public interface NodeComponent extends AutoCloseable {
  /**
   * Starts the component. The context gives access to the node's other components; a component
   * must not call into a component that starts after it before its own start returns.
   *
   * @throws Exception if the component cannot start; the node then closes what already started
   */
  void start(NodeContext context) throws Exception;

  /** Stops the component and releases everything it holds. Idempotent; never throws checked exceptions. */
  @Override
  void close();
}
