#!/usr/bin/env bash
# Migration KPIs. Runs the migration convergence benchmark (io.semnet.bench.migration.
# MigrationConvergenceBenchmark): in-process with 1, 10, 100 and 1,000 interested workers and over a
# real mosquitto on a free loopback port with 1, 10 and 50, 100 migrations each; reports convergence
# p50/p99 (max over workers of t_apply - t_pub), control messages and bytes per migration, queries
# during the migrations (must be 0) and locator regressions (must be 0).
#
# The data-path KPIs of a migration (network share of downtime, UDP loss with and without
# buffering, TCP survival) need make-before-break buffering, which does not exist yet: they are
# written as null, each with a reason under "not_measured", never as invented numbers.
#
#   semnet-bench/e2e/migration.sh [--json FILE] [--reps N] [--mqtt-reps N] [--no-mqtt]
#
# Exits non-zero if a correctness check failed. Builds semnet-bench if its jar is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
JSON=""
REPS=100
MQTT_REPS=100
MQTT_NS="1,10,50"
while (($#)); do
  case "$1" in
    --json) JSON="$2"; shift 2 ;;
    --reps) REPS="$2"; shift 2 ;;
    --mqtt-reps) MQTT_REPS="$2"; shift 2 ;;
    --no-mqtt) MQTT_NS="none"; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$MQTT_NS" != none ] && [ ! -x /usr/sbin/mosquitto ]; then
  echo "no /usr/sbin/mosquitto: skipping the MQTT runs" >&2
  MQTT_NS="none"
fi
JAR=semnet-bench/target/benchmarks.jar
if [ ! -f "$JAR" ]; then
  mvn -B -q -o -DskipTests -pl semnet-bench -am package
fi
ARGS=(--ns 1,10,100,1000 --reps "$REPS" --mqtt-ns "$MQTT_NS" --mqtt-reps "$MQTT_REPS")
[ -n "$JSON" ] && ARGS+=(--json "$JSON")
# slf4j-simple: keep the per-connection INFO lines of the MQTT nodes out of the report.
exec java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$JAR" \
  io.semnet.bench.migration.MigrationConvergenceBenchmark "${ARGS[@]}"
