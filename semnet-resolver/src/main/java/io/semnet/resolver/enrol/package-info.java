/**
 * A node's enrolment with a join token ({@link io.semnet.resolver.enrol.Enrolment}): proof of the
 * token by HMAC, root pinned by key hash, signed registration and MQTT client certificate in
 * return, renewal before expiry ({@link io.semnet.resolver.enrol.RegistrationRenewal}).
 */
package io.semnet.resolver.enrol;
