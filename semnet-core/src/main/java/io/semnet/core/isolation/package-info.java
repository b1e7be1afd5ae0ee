/** Namespace isolation: which services may open flows to which, and the grants that widen it. */
package io.semnet.core.isolation;
