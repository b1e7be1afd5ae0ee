/** Routes as the data path consumes them: a virtual address with its (versioned) service record. */
package io.semnet.core.route;
