#!/usr/bin/env bash
# Builds SemNet and runs the main demo: mosquitto with TLS, one controller process and three agent
# processes (each node in its own JVM and network namespace), enrolled with join tokens, and the
# scenarios run through them. Run as root on Linux: the demo builds network namespaces and removes
# them again when it ends (also on failure or Ctrl-C).
#   demo.sh [--json FILE]   also writes the result as JSON (control_transport, processes, scenarios)
#   demo.sh --in-jvm        the same scenarios plus the stateful migrations, every node in one JVM
set -euo pipefail
# --json FILE is relative to where the demo was started, not to the repository
args=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--json" ] && [ $# -gt 1 ]; then args+=("$1" "$(realpath -m -- "$2")"); shift 2; else args+=("$1"); shift; fi
done
cd "$(dirname "$0")/../.."
.ci/install-packages
# package, not install: the agent and controller run from their shaded jars in semnet-agent/target
mvn -B -q -DskipTests -Dsemnet.docs.skip=true package
exec java -cp "samples/demo/target/classes:$(cat samples/demo/target/classpath.txt)" io.semnet.samples.demo.Demo ${args[@]+"${args[@]}"}
