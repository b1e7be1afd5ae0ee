/** Service records as the service managers hold them: immutable, versioned by the root. */
package io.semnet.core.record;
