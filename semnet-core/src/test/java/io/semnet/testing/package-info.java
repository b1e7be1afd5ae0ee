/** Shared test fixtures (published as semnet-core's test-jar): network namespaces with guaranteed clean-up. */
package io.semnet.testing;
