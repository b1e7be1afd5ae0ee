package io.semnet.node.admin;

import java.util.Map;

/**
 * One read-only endpoint of an {@link AdminServer}: given the request's query parameters, returns
 * the response to send. Called on the admin server's own threads, never on the data path; an
 * exception becomes a {@code 500} with the exception's class name and nothing else leaks.
 */
@FunctionalInterface
public interface AdminEndpoint {

  /**
   * Answers one {@code GET} request.
   *
   * @param query the decoded query parameters (the last value wins for a repeated name)
   * @return the response, never {@code null}
   */
  AdminResponse handle(Map<String, String> query) throws Exception;
}
