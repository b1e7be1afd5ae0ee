package io.semnet.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * Marks a test that needs root (network namespaces, veth pairs, TUN devices, tc). Tagged
 * {@code privileged} so it can be excluded with {@code -Dsurefire.excludedGroups=privileged}, and
 * skipped (not failed) when not running as root. CI runs as root and runs them all.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("privileged")
@EnabledIf(value = "io.semnet.testing.TestNetwork#isPrivileged", disabledReason = "needs root and iproute2")
public @interface Privileged {}
