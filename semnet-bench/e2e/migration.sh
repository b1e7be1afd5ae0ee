#!/usr/bin/env bash
# Migration KPIs, in two parts merged into one report:
#  1. Convergence (io.semnet.bench.migration.MigrationConvergenceBenchmark): in-process with 1, 10,
#     100 and 1,000 interested workers and over a real mosquitto on a free loopback port with 1, 10,
#     50 and 1,000 (each node its own broker connection, all from one JVM), 100 migrations each;
#     convergence p50/p99 (max over workers of t_apply - t_pub),
#     control messages and bytes per migration, queries during the migrations (must be 0) and
#     locator regressions (must be 0).
#  2. The data path, end to end in network namespaces (needs root; io.semnet.samples.cluster.
#     StatefulMigrationBenchmark): an instance moves statefully (same namespace IP, its sockets live
#     on) between two workers while a client on a third streams UDP at 1 ms intervals and keeps a
#     TCP connection busy; --e2e-reps moves (default 20) with make-before-break buffering at the
#     source node, as many without. Network share of downtime (t_first - t_up, p50/p99) and where it
#     went (downtime_breakdown_ms: up_to_release, replay_to_first_reply; and what up_to_release is made of:
#     publish, push_apply_source; for reference push_apply_sender and push_apply_destination), UDP lost
#     and reordered with and without buffering (echoes at the client:
#     udp_reordered_with_buffer; arrivals at the instance: udp_reordered_at_instance_with_buffer),
#     TCP survival, what the source held, replayed, forwarded and relayed, and the control transport
#     of these moves (e2e_control_transport).
# Without root, part 2's keys are null, each with its reason under "not_measured".
#
#   semnet-bench/e2e/migration.sh [--json FILE] [--reps N] [--mqtt-reps N] [--no-mqtt] [--e2e-reps N] [--no-e2e]
#
# Exits non-zero if a correctness check failed. Builds what is missing (package, never install).
set -euo pipefail
cd "$(dirname "$0")/../.."
JSON=""
REPS=100
MQTT_REPS=100
MQTT_NS="1,10,50,1000"
E2E_REPS=20
while (($#)); do
  case "$1" in
    --json) JSON="$2"; shift 2 ;;
    --reps) REPS="$2"; shift 2 ;;
    --mqtt-reps) MQTT_REPS="$2"; shift 2 ;;
    --no-mqtt) MQTT_NS="none"; shift ;;
    --e2e-reps) E2E_REPS="$2"; shift 2 ;;
    --no-e2e) E2E_REPS=0; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$MQTT_NS" != none ] && [ ! -x /usr/sbin/mosquitto ]; then
  echo "no /usr/sbin/mosquitto: skipping the MQTT runs" >&2
  MQTT_NS="none"
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
JAR=semnet-bench/target/benchmarks.jar
if [ ! -f "$JAR" ]; then
  mvn -B -q -o -DskipTests -pl semnet-bench -am package
fi
ARGS=(--ns 1,10,100,1000 --reps "$REPS" --mqtt-ns "$MQTT_NS" --mqtt-reps "$MQTT_REPS" --json "$TMP/convergence.json")
# slf4j-simple: keep the per-connection INFO lines of the MQTT nodes out of the report.
status=0
java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$JAR" \
  io.semnet.bench.migration.MigrationConvergenceBenchmark "${ARGS[@]}" || status=$?

E2E_REASON=""
if [ "$E2E_REPS" -le 0 ]; then
  E2E_REASON="skipped (--no-e2e)"
elif [ "$(id -u)" != 0 ]; then
  E2E_REASON="the end-to-end migration needs root (network namespaces)"
else
  if [ ! -f samples/demo/target/classpath.txt ] || [ ! -d samples/demo/target/classes ]; then
    mvn -B -q -o -DskipTests -pl samples/demo -am package
  fi
  java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "samples/demo/target/classes:$(cat samples/demo/target/classpath.txt)" \
    io.semnet.samples.cluster.StatefulMigrationBenchmark --reps "$E2E_REPS" --json "$TMP/e2e.json" \
    || { status=1; E2E_REASON="the end-to-end migration run failed"; }
fi

if [ -n "$JSON" ]; then
  python3 - "$TMP/convergence.json" "$TMP/e2e.json" "$JSON" "$E2E_REASON" <<'PY'
import json, os, sys
conv_file, e2e_file, out_file, reason = sys.argv[1:5]
report = json.load(open(conv_file)) if os.path.exists(conv_file) else {}
keys = ["network_downtime_ms_p50", "network_downtime_ms_p99", "udp_lost_with_buffer", "udp_lost_without_buffer",
        "udp_reordered_with_buffer", "udp_reordered_at_instance_with_buffer", "tcp_survived", "downtime_breakdown_ms",
        "e2e_control_transport"]
if os.path.exists(e2e_file) and not reason:
    report.update(json.load(open(e2e_file)))
else:
    for k in keys:
        report[k] = None
    report["not_measured"] = {k: reason or "no result" for k in keys}
json.dump(report, open(out_file, "w"), indent=2)
open(out_file, "a").write("\n")
bd = report.get("downtime_breakdown_ms")
if isinstance(bd, dict):
    print("network downtime p50/p99 %s/%s ms (%s); where it went, p50/p99 ms:" % (
        report.get("network_downtime_ms_p50"), report.get("network_downtime_ms_p99"), report.get("e2e_control_transport")))
    for k, v in bd.items():
        if isinstance(v, dict):
            print("  %-22s %s / %s" % (k, v.get("p50"), v.get("p99")))
print("wrote " + out_file)
PY
fi
exit "$status"
