#!/usr/bin/env bash
# Builds SemNet and runs the main demo. Run as root on Linux: the demo builds network namespaces,
# and removes them again when it ends (also on failure or Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/../.."
.ci/install-packages
mvn -B -q -DskipTests install
exec java -cp "samples/demo/target/classes:$(cat samples/demo/target/classpath.txt)" io.semnet.samples.demo.Demo "$@"
