package io.semnet.core.node;

import io.semnet.core.isolation.IsolationRules;
import io.semnet.core.route.Resolution;
import io.semnet.core.route.Route;
import io.semnet.core.route.RouteListener;
import io.semnet.core.service.SemanticName;
import java.net.InetAddress;
import java.util.concurrent.CompletionStage;

/**
 * The node's view of the control plane: routes for virtual addresses and names, learned lazily
 * from the service managers and kept up to date by their pushes.
 *
 * <p>The data path calls {@link #cached} (never blocks) and, on a miss, {@link #resolve} (returns at
 * once, completes later). Completions and listener calls happen on resolver threads, never on the
 * caller's.
 */
public interface RouteResolver extends NodeComponent {
  /**
   * The cached route for a ServiceIP or InstanceIP, or null if not cached. Never blocks and never
   * triggers a query; counts as a use of the route (keeping its interest alive).
   */
  Route cached(InetAddress virtualIp);

  /** Resolves a ServiceIP or InstanceIP; concurrent calls for one address share one query. */
  CompletionStage<Resolution> resolve(InetAddress virtualIp);

  /** Resolves a semantic name; concurrent calls for one name share one query. */
  CompletionStage<Resolution> resolve(SemanticName name);

  /** Registers a listener for pushed changes (records updated or removed). */
  void addListener(RouteListener listener);

  void removeListener(RouteListener listener);

  /** The current namespace-isolation rules, as pushed by the service managers. */
  IsolationRules isolationRules();

  /** False while the service manager cannot be reached; cached routes keep serving. */
  boolean isOnline();
}
