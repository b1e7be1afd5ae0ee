#!/usr/bin/env bash
# The soak (issue 16 item 5): a multi-process cluster (mosquitto with TLS, a controller and two agent
# JVMs) under a steady rate of new TCP and UDP flows to an rr ServiceIP, with instance kills and
# restarts; samples heap after GC, direct memory, open fds, flow-table size and drops of each agent
# and fails (exit 1) if any grows without bound. Needs root, mosquitto, python3 and a build:
#   mvn -B -DskipTests package
# Usage: semnet-bench/e2e/soak.sh [--duration 2m|1h] [--rate 10000] [--json FILE] [--png FILE]
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ ! -f samples/demo/target/classpath.txt ]] || ! ls semnet-agent/target/*-agent.jar >/dev/null 2>&1; then
  echo "build first: mvn -B -DskipTests package" >&2
  exit 2
fi
cp="samples/demo/target/classes:$(cat samples/demo/target/classpath.txt)"
exec java -cp "$cp" io.semnet.samples.soak.Soak "$@"
