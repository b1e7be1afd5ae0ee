#!/usr/bin/env bash
# End-to-end benchmark: TCP throughput (iperf3), request latency (sockperf TCP ping-pong) and
# system-wide CPU per GB from a client instance to a server instance on another node, through
# SemNet (authenticated tunnel, the default, and plaintext) and through the kernel alone on the
# same two-worker topology (plain routing; kube-proxy-style iptables DNAT + kernel VXLAN with the
# VXLAN MTU fitted to the underlay). Everything runs in network namespaces this script creates and
# removes. Needs root, iperf3, sockperf, iptables and a built SemNet (mvn -B -DskipTests package).
#
#   semnet-bench/e2e/run.sh [--json FILE] [--secs N] [--only kernel|semnet]
set -euo pipefail
cd "$(dirname "$0")/../.."
JSON=""
SECS=8
PATHS="kernel semnet"
while (($#)); do
  case "$1" in
    --json) JSON="$2"; shift 2 ;;
    --secs) SECS="$2"; shift 2 ;;
    --only) PATHS="$2"; shift 2 ;;   # kernel or semnet
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
P=e2eb
NS=(${P}w1 ${P}w2 ${P}s1 ${P}s2)
SEMNET_PID=""
cleanup() {
  [ -n "$SEMNET_PID" ] && kill "$SEMNET_PID" 2>/dev/null && wait "$SEMNET_PID" 2>/dev/null || true
  SEMNET_PID=""
  for n in "${NS[@]}"; do
    ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$n" 2>/dev/null || true
  done
}
trap cleanup EXIT INT TERM

# ---- measurement helpers -------------------------------------------------------------------
busy_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
HZ=$(getconf CLK_TCK)

# measure CLIENT_NS SERVER_NS DST -> sets TP_GBPS LAT_P50 CPU_S_PER_GB
measure() {
  local cns=$1 sns=$2 dst=$3
  ip netns exec "$sns" iperf3 -s -1 -D >/dev/null 2>&1
  ip netns exec "$sns" sockperf server -i 0.0.0.0 -p 11111 --tcp >/dev/null 2>&1 &
  local sp=$!
  sleep 1
  local j0; j0=$(busy_jiffies)
  # -O 3: the first seconds are not counted on any path, so a JIT warming up is not measured.
  local out; out=$(ip netns exec "$cns" iperf3 -c "$dst" -t "$SECS" -O 3 -J)
  local j1; j1=$(busy_jiffies)
  read -r TP_GBPS BYTES < <(python3 -c 'import json,sys; e=json.load(sys.stdin)["end"]["sum_received"]; print(round(e["bits_per_second"]/1e9,3), e["bytes"])' <<<"$out")
  CPU_S_PER_GB=$(python3 -c "print(round(($j1-$j0)/$HZ/($BYTES/1e9),3))")
  ip netns exec "$cns" sockperf ping-pong -i "$dst" -p 11111 --tcp -t 2 >/dev/null 2>&1 || true   # warm-up
  LAT_P50=$(ip netns exec "$cns" sockperf ping-pong -i "$dst" -p 11111 --tcp -t "$SECS" 2>&1 \
    | awk -F'= ' '/percentile 50.000/{gsub(/ /,"",$2); print $2}' | head -1)
  kill $sp 2>/dev/null || true; wait $sp 2>/dev/null || true
}

# ---- the kernel's topology (from ../shared/tools/kernel-baseline.sh) ------------------------
kernel_topology() {
  cleanup
  for n in "${NS[@]}"; do ip netns add "$n"; ip -n "$n" link set lo up; done
  ip link add ${P}u1 netns ${P}w1 type veth peer name ${P}u2 netns ${P}w2
  ip -n ${P}w1 addr add 192.168.250.1/24 dev ${P}u1; ip -n ${P}w1 link set ${P}u1 up
  ip -n ${P}w2 addr add 192.168.250.2/24 dev ${P}u2; ip -n ${P}w2 link set ${P}u2 up
  ip link add ${P}a1 netns ${P}w1 type veth peer name eth0 netns ${P}s1
  ip link add ${P}a2 netns ${P}w2 type veth peer name eth0 netns ${P}s2
  ip -n ${P}w1 addr add 10.18.1.1/26 dev ${P}a1; ip -n ${P}w1 link set ${P}a1 up
  ip -n ${P}w2 addr add 10.18.2.1/26 dev ${P}a2; ip -n ${P}w2 link set ${P}a2 up
  ip -n ${P}s1 addr add 10.18.1.2/26 dev eth0; ip -n ${P}s1 link set eth0 up; ip -n ${P}s1 route add default via 10.18.1.1
  ip -n ${P}s2 addr add 10.18.2.2/26 dev eth0; ip -n ${P}s2 link set eth0 up; ip -n ${P}s2 route add default via 10.18.2.1
  for w in w1 w2; do ip netns exec ${P}$w sysctl -qw net.ipv4.ip_forward=1; done
}

run_kernel_direct() {
  kernel_topology
  ip -n ${P}w1 route add 10.18.2.0/26 via 192.168.250.2
  ip -n ${P}w2 route add 10.18.1.0/26 via 192.168.250.1
  measure ${P}s1 ${P}s2 10.18.2.2
}

run_kernel_vxlan_dnat() {
  kernel_topology
  ip -n ${P}w1 link add vx0 type vxlan id 1 local 192.168.250.1 remote 192.168.250.2 dstport 4789
  ip -n ${P}w2 link add vx0 type vxlan id 1 local 192.168.250.2 remote 192.168.250.1 dstport 4789
  ip -n ${P}w1 link set vx0 mtu 1450; ip -n ${P}w2 link set vx0 mtu 1450
  ip -n ${P}w1 addr add 10.99.0.1/30 dev vx0; ip -n ${P}w1 link set vx0 up
  ip -n ${P}w2 addr add 10.99.0.2/30 dev vx0; ip -n ${P}w2 link set vx0 up
  ip -n ${P}w1 route add 10.18.2.0/26 via 10.99.0.2
  ip -n ${P}w2 route add 10.18.1.0/26 via 10.99.0.1
  ip netns exec ${P}w1 iptables -t nat -A PREROUTING -d 10.30.0.5 -j DNAT --to-destination 10.18.2.2
  measure ${P}s1 ${P}s2 10.30.0.5
}

# SemNet on the same shape of topology: the launcher builds the namespaces itself (worker
# namespaces with a bridge, a TUN and one instance each, joined by a veth underlay), starts both
# nodes in one JVM and prints "READY <client-ns> <server-ns> <service-ip>".
run_semnet() {
  local mode=$1
  cleanup
  local cp; cp="samples/demo/target/classes:$(cat samples/demo/target/classpath.txt)"
  local fifo; fifo=$(mktemp -u); mkfifo "$fifo"
  java -cp "$cp" io.semnet.samples.bench.TwoNodeBenchTopology --tunnel "$mode" >"$fifo" 2>/tmp/${P}-semnet.log &
  SEMNET_PID=$!
  local line=""
  exec 9<"$fifo"
  while read -r -t 60 line <&9; do
    case "$line" in READY*) break ;; esac
  done
  rm -f "$fifo"
  [[ "$line" == READY* ]] || { echo "SemNet launcher did not come up; see /tmp/${P}-semnet.log" >&2; exit 1; }
  read -r _ cns sns dst <<<"$line"
  measure "$cns" "$sns" "$dst"
  kill "$SEMNET_PID" 2>/dev/null || true; wait "$SEMNET_PID" 2>/dev/null || true; SEMNET_PID=""
  exec 9<&-
}

declare -A R
record() { R[$1.tcp_gbps]=$TP_GBPS; R[$1.latency_p50_us]=$LAT_P50; R[$1.cpu_s_per_gb]=$CPU_S_PER_GB;
  printf '%-22s tcp %8s Gbit/s   p50 %8s us   cpu %7s s/GB\n' "$1" "$TP_GBPS" "$LAT_P50" "$CPU_S_PER_GB"; }

if [[ " $PATHS " == *" kernel "* ]]; then
  run_kernel_direct;      record kernel_direct
  run_kernel_vxlan_dnat;  record kernel_vxlan_dnat
fi
if [[ " $PATHS " == *" semnet "* ]]; then
  run_semnet aead;        record semnet
  run_semnet plaintext;   record semnet_plaintext
fi
cleanup

python3 - "$JSON" <<PY
import json, sys
r = {}
for k in """$(for k in "${!R[@]}"; do echo "$k=${R[$k]}"; done)""".split():
    path, val = k.split("=")
    name, metric = path.split(".")
    r.setdefault(name, {})[metric] = float(val) if val else None
def ratio(a, b, m):
    try: return round(r[a][m] / r[b][m], 3)
    except Exception: return None
r["ratios"] = {
  "semnet_vs_vxlan_dnat_tcp": ratio("semnet", "kernel_vxlan_dnat", "tcp_gbps"),
  "semnet_vs_direct_tcp": ratio("semnet", "kernel_direct", "tcp_gbps"),
  "semnet_vs_vxlan_dnat_latency": ratio("semnet", "kernel_vxlan_dnat", "latency_p50_us"),
  "semnet_vs_direct_latency": ratio("semnet", "kernel_direct", "latency_p50_us"),
  "plaintext_vs_vxlan_dnat_tcp": ratio("semnet_plaintext", "kernel_vxlan_dnat", "tcp_gbps"),
}
print(json.dumps(r["ratios"], indent=1))
if sys.argv[1]:
    json.dump(r, open(sys.argv[1], "w"), indent=1)
PY
