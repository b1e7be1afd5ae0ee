#!/usr/bin/env bash
# End-to-end benchmark: TCP throughput (iperf3), request latency p50/p99 (sockperf TCP ping-pong),
# TCP connections per second (tcpconn.c, compiled here with gcc), 64-byte UDP datagrams per second
# delivered (iperf3 -u, counted at the receiver) and system-wide CPU per GB from a client instance
# to a server instance on another node, through SemNet (authenticated tunnel, the default, and
# plaintext) and through the kernel alone on the same two-worker topology (plain routing;
# kube-proxy-style iptables DNAT + kernel VXLAN with the VXLAN MTU fitted to the underlay).
# The paths alternate, round after round (--rounds N, default 3); the JSON holds per path the median
# of each metric with its min and max, ratios between medians, and every round's values. See
# README.md beside this file for how to read the figures. Everything runs in network namespaces
# this script creates and removes. Needs root, iperf3, sockperf, iptables, gcc and a built SemNet
# (mvn -B -DskipTests package: the agent and controller jars), mosquitto and openssl; --breakdown
# also needs perf. SemNet's two nodes run as two agent processes (see run_semnet).
#
#   semnet-bench/e2e/run.sh [--json FILE] [--rounds N] [--secs N] [--only kernel|semnet]
#                           [--conn-threads N] [--warmup N] [--busy-poll US] [--breakdown] [--profile DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
JSON=""
SECS=8
WARMUP=5
ROUNDS=3
CONN_THREADS=4
BREAKDOWN=0
PROFILE=""
BUSY_POLL_US=0
PATHS="kernel semnet"
while (($#)); do
  case "$1" in
    --json) JSON="$2"; shift 2 ;;
    --secs) SECS="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --conn-threads) CONN_THREADS="$2"; shift 2 ;;
    --breakdown) BREAKDOWN=1; shift ;;
    --profile) PROFILE="$2"; shift 2 ;;
    --busy-poll) BUSY_POLL_US="$2"; shift 2 ;;   # adds the path semnet_busypoll (AEAD, agents busy-poll N us)
    --only) PATHS="$2"; shift 2 ;;   # kernel or semnet
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "--rounds needs a positive integer" >&2; exit 2; }
P=e2eb
NS=(${P}w1 ${P}w2 ${P}s1 ${P}s2)
SEMNET_PID=""
NODE_PIDS=""
WORK=$(mktemp -d /tmp/${P}.XXXXXX)
cleanup() {
  [ -n "$SEMNET_PID" ] && kill "$SEMNET_PID" 2>/dev/null && wait "$SEMNET_PID" 2>/dev/null || true
  SEMNET_PID=""
  for n in "${NS[@]}"; do
    ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$n" 2>/dev/null || true
  done
}
trap 'cleanup; rm -rf "$WORK"' EXIT INT TERM

# The same connection-rate client and server on every path, built from source for this machine.
gcc -O2 -Wall -pthread -o "$WORK/tcpconn" semnet-bench/e2e/tcpconn.c

# ---- measurement helpers -------------------------------------------------------------------
busy_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
HZ=$(getconf CLK_TCK)

# measure CLIENT_NS SERVER_NS DST
#   -> sets TP_GBPS CPU_S_PER_GB LAT_P50 LAT_P99 CONN_PER_S UDP_PPS
measure() {
  local cns=$1 sns=$2 dst=$3
  if ((WARMUP > 0)); then
    # Every path first carries an uncounted TCP stream for --warmup seconds: SemNet's agents are
    # fresh JVMs each round, and on 2 shared cores their JIT compiles for 10-20 s of traffic (a
    # node in service is long past that); the kernel paths get the same run so nothing differs.
    ip netns exec "$sns" iperf3 -s -1 -D >/dev/null 2>&1
    sleep 0.5
    ip netns exec "$cns" iperf3 -c "$dst" -t "$WARMUP" >/dev/null 2>&1 || true
    sleep 0.5
  fi
  ip netns exec "$sns" iperf3 -s -1 -D >/dev/null 2>&1
  ip netns exec "$sns" sockperf server -i 0.0.0.0 -p 11111 --tcp >/dev/null 2>&1 &
  local sp=$!
  ip netns exec "$sns" "$WORK/tcpconn" server 11112 >/dev/null 2>&1 &
  local cs=$!
  sleep 1
  profile_start
  local j0; j0=$(busy_jiffies)
  # -O 3: the first seconds are not counted on any path, so a JIT warming up is not measured.
  local out; out=$(ip netns exec "$cns" iperf3 -c "$dst" -t "$SECS" -O 3 -J)
  local j1; j1=$(busy_jiffies)
  profile_stop
  # Throughput counts only the seconds after -O; CPU per GB divides the busy time of the whole
  # iperf3 run by the bytes of the whole run (every interval, the omitted ones too), so both sides
  # of the ratio cover the same window.
  read -r TP_GBPS BYTES < <(python3 -c 'import json,sys
d=json.load(sys.stdin); e=d["end"]["sum_received"]
print(round(e["bits_per_second"]/1e9,3), sum(i["sum"]["bytes"] for i in d["intervals"]))' <<<"$out")
  CPU_S_PER_GB=$(python3 -c "print(round(($j1-$j0)/$HZ/($BYTES/1e9),3))")
  ip netns exec "$cns" sockperf ping-pong -i "$dst" -p 11111 --tcp -t 2 >/dev/null 2>&1 || true   # warm-up
  out=$(ip netns exec "$cns" sockperf ping-pong -i "$dst" -p 11111 --tcp -t "$SECS" 2>&1 || true)
  LAT_P50=$(awk -F'= ' '/percentile 50.000/{gsub(/ /,"",$2); print $2}' <<<"$out" | head -1)
  LAT_P99=$(awk -F'= ' '/percentile 99.000/{gsub(/ /,"",$2); print $2}' <<<"$out" | head -1)
  kill $sp 2>/dev/null || true; wait $sp 2>/dev/null || true
  # Connections: one uncounted second first (flows, JIT), then $SECS seconds counted.
  out=$(ip netns exec "$cns" "$WORK/tcpconn" client "$dst" 11112 "$SECS" "$CONN_THREADS" 1 || true)
  CONN_PER_S=$(sed -n 's/.*conn_per_s=\([0-9.]*\).*/\1/p' <<<"$out")
  [ -n "$out" ] && echo "    tcpconn: $out" >&2
  kill $cs 2>/dev/null || true; wait $cs 2>/dev/null || true
  # 64-byte UDP datagrams as fast as the sender can; what the receiving iperf3 got, per second.
  ip netns exec "$sns" iperf3 -s -1 -D >/dev/null 2>&1
  sleep 0.5
  out=$(ip netns exec "$cns" iperf3 -c "$dst" -u -l 64 -b 0 -t "$SECS" -O 1 -J || true)
  UDP_PPS=$(python3 -c 'import json,sys
try:
  e=json.load(sys.stdin)["end"]["sum_received"]; print(round(e["bytes"]/64/e["seconds"]))
except Exception: pass' <<<"$out")
}

# --profile DIR: in the last round, both SemNet agents are profiled with async-profiler (CPU,
# kernel frames included, per thread) during the TCP throughput run; collapsed stacks per agent
# and path go to DIR, with a summary of threads and hottest frames (profile_top.py). The
# profiler is Maven Central's tools.profiler:async-profiler (linux-x64), or $ASYNC_PROFILER_LIB.
AP_LIB=""
profile_lib() {
  [ -n "$AP_LIB" ] && return 0
  if [ -n "${ASYNC_PROFILER_LIB:-}" ]; then AP_LIB=$ASYNC_PROFILER_LIB; return 0; fi
  local v=4.1 jar
  jar=~/.m2/repository/tools/profiler/async-profiler/$v/async-profiler-$v-linux-x64.jar
  [ -f "$jar" ] || mvn -B -q dependency:get -Dartifact=tools.profiler:async-profiler:$v:jar:linux-x64 >&2 || true
  [ -f "$jar" ] || { echo "--profile: no async-profiler (set ASYNC_PROFILER_LIB)" >&2; return 1; }
  mkdir -p "$WORK/ap" && (cd "$WORK/ap" && unzip -q -o "$jar" 'linux-x64/*')
  AP_LIB="$WORK/ap/linux-x64/libasyncProfiler.so"
}
PROFILING=""
profile_start() {
  PROFILING=""
  [ -n "$PROFILE" ] && [ -n "$NODE_PIDS" ] && [ "$round" = "$ROUNDS" ] && profile_lib || return 0
  local p
  for p in ${NODE_PIDS//,/ }; do
    # jcmd parses key=value pairs itself: the agent's option string goes in quotes.
    jcmd "$p" JVMTI.agent_load "$AP_LIB" "\"start,event=cpu,interval=1000000,threads\"" >/dev/null && PROFILING+="$p "
  done
}
profile_stop() {
  [ -n "$PROFILING" ] || return 0
  local p files=""
  mkdir -p "$PROFILE"
  for p in $PROFILING; do
    jcmd "$p" JVMTI.agent_load "$AP_LIB" "\"stop,file=$PROFILE/$PATH_NAME-agent-$p.collapsed,collapsed,threads\"" >/dev/null || true
    files+=" $PROFILE/$PATH_NAME-agent-$p.collapsed"
  done
  python3 semnet-bench/e2e/profile_top.py $files >"$PROFILE/$PATH_NAME-top.txt" 2>&1 || true
  echo "    profile: $PROFILE/$PATH_NAME-top.txt" >&2
  PROFILING=""
}

# breakdown CLIENT_NS SERVER_NS DST: where one request's time goes inside SemNet. A UDP ping-pong
# (sockperf) runs once untraced and once while perf records the scheduler's wake-ups and the system
# calls of the SemNet threads and of sockperf; breakdown.py cuts every one-way pass into stages at
# those boundaries (no hook in the data path). Tracing costs a little per event, so the traced
# round trip is longer than the untraced one; both are printed.
breakdown() {
  local cns=$1 sns=$2 dst=$3 t comm tun="" tunnel=""
  command -v perf >/dev/null || { echo "breakdown: perf is not installed" >&2; return 0; }
  for t in $(for p in ${NODE_PIDS//,/ }; do echo /proc/"$p"/task/*; done); do
    comm=$(cat "$t/comm" 2>/dev/null || true)
    case "$comm" in
      tun-*) tun+="${t##*/}," ;;
      semnet-tunnel*) tunnel+="${t##*/}," ;;
    esac
  done
  ip netns exec "$sns" sockperf server -i 0.0.0.0 -p 11115 >/dev/null 2>&1 &
  local srv=$!
  sleep 1
  local base
  base=$(ip netns exec "$cns" sockperf ping-pong -i "$dst" -p 11115 -t 3 2>&1 \
    | awk -F'= ' '/percentile 50.000/{gsub(/ /,"",$2); print $2}' | head -1)
  # sockperf's pid is the one `ip netns exec` execs into; it waits until perf is recording.
  ip netns exec "$cns" sh -c "sleep 1; exec sockperf ping-pong -i $dst -p 11115 -t 3" >"$WORK/bd-sockperf.txt" 2>&1 &
  local cli=$!
  local pids="$tun$tunnel$srv,$cli" f="" w=""
  for t in ${pids//,/ }; do f+="${f:+ || }common_pid == $t"; w+="${w:+ || }pid == $t"; done
  perf record -q -a -k mono -o "$WORK/perf.data" -e sched:sched_wakeup --filter "$w" \
    -e raw_syscalls:sys_enter --filter "$f" -e raw_syscalls:sys_exit --filter "$f" -- sleep 3.5 >/dev/null 2>&1 || true
  wait $cli 2>/dev/null || true
  kill $srv 2>/dev/null || true; wait $srv 2>/dev/null || true
  local traced
  traced=$(awk -F'= ' '/percentile 50.000/{gsub(/ /,"",$2); print $2}' "$WORK/bd-sockperf.txt" | head -1)
  echo "---- latency breakdown, SemNet (aead), UDP ping-pong, one-way pass; sockperf p50 (half the round trip) untraced $base us, traced $traced us"
  perf script -i "$WORK/perf.data" --ns -F tid,time,event,trace 2>/dev/null \
    | python3 semnet-bench/e2e/breakdown.py --tun "${tun%,}" --tunnel "${tunnel%,}" --app "$srv,$cli" \
        --json "$WORK/breakdown.json" || echo "breakdown: no usable trace" >&2
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["sockperf_p50_untraced_us"]=float(sys.argv[2] or "nan"); d["sockperf_p50_traced_us"]=float(sys.argv[3] or "nan"); json.dump(d,open(sys.argv[1],"w"))' \
    "$WORK/breakdown.json" "$base" "$traced" 2>/dev/null || true
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
# namespaces joined by a veth underlay, one instance each), starts mosquitto with TLS, a controller
# process and the two nodes as two agent processes (the shaded jars, each node in its own JVM and
# namespace, enrolled with join tokens; instances attached with 'agent attach') and prints
# "READY <client-ns> <server-ns> <service-ip> <agent-pid>,<agent-pid>". Only the launch differs from
# the in-JVM nodes of before; the measurement is the same.
run_semnet() {
  local mode=$1 busy=${2:-0}
  cleanup
  local cp; cp="samples/demo/target/classes:$(cat samples/demo/target/classpath.txt)"
  local fifo; fifo=$(mktemp -u); mkfifo "$fifo"
  java -cp "$cp" io.semnet.samples.bench.TwoNodeBenchTopology --tunnel "$mode" --busy-poll-us "$busy" >"$fifo" 2>/tmp/${P}-semnet.log &
  SEMNET_PID=$!
  local line=""
  exec 9<"$fifo"
  while read -r -t 240 line <&9; do
    case "$line" in READY*) break ;; esac
  done
  rm -f "$fifo"
  [[ "$line" == READY* ]] || { echo "SemNet launcher did not come up; see /tmp/${P}-semnet.log" >&2; exit 1; }
  read -r _ cns sns dst NODE_PIDS <<<"$line"
  echo "SemNet ($mode tunnel): the two nodes run as two agent processes (pids $NODE_PIDS) beside a controller process and mosquitto with TLS" >&2
  PATH_NAME=semnet_$mode; ((busy > 0)) && PATH_NAME+=_busypoll
  measure "$cns" "$sns" "$dst"
  if ((BREAKDOWN)) && [ "$mode" = aead ] && [ "$busy" = 0 ] && [ "$round" = "$ROUNDS" ]; then
    breakdown "$cns" "$sns" "$dst"
  fi
  kill "$SEMNET_PID" 2>/dev/null || true; wait "$SEMNET_PID" 2>/dev/null || true; SEMNET_PID=""
  NODE_PIDS=""
  exec 9<&-
}

RESULTS="$WORK/results.tsv"
: >"$RESULTS"
record() {  # record PATH ROUND
  local m v
  for m in tcp_gbps:$TP_GBPS latency_p50_us:$LAT_P50 latency_p99_us:$LAT_P99 cpu_s_per_gb:$CPU_S_PER_GB \
           tcp_conn_per_s:$CONN_PER_S udp_64b_pps:$UDP_PPS; do
    printf '%s\t%s\t%s\t%s\n' "$1" "${m%%:*}" "${m#*:}" "$2" >>"$RESULTS"
  done
  printf '%-18s r%-2s tcp %7s Gbit/s  p50 %8s us  p99 %8s us  cpu %6s s/GB  conn %8s /s  udp64 %9s pps\n' \
    "$1" "$2" "$TP_GBPS" "$LAT_P50" "$LAT_P99" "$CPU_S_PER_GB" "$CONN_PER_S" "$UDP_PPS"
}

# The paths alternate within every round, so slow drifts of the machine (other load, the vCPUs'
# idle states) reach all of them alike; the JSON gives medians over the rounds.
for ((round = 1; round <= ROUNDS; round++)); do
  if [[ " $PATHS " == *" kernel "* ]]; then
    run_kernel_direct;      record kernel_direct "$round"
    run_kernel_vxlan_dnat;  record kernel_vxlan_dnat "$round"
  fi
  if [[ " $PATHS " == *" semnet "* ]]; then
    run_semnet aead;        record semnet "$round"
    run_semnet plaintext;   record semnet_plaintext "$round"
    if ((BUSY_POLL_US > 0)); then
      run_semnet aead "$BUSY_POLL_US"; record semnet_busypoll "$round"
    fi
  fi
done
cleanup

python3 - "$JSON" "$ROUNDS" "$RESULTS" <<'PY'
import json, statistics, sys
out, rounds, results = sys.argv[1], int(sys.argv[2]), sys.argv[3]
per_round = {}
for line in open(results):
    path, metric, val, rnd = line.rstrip("\n").split("\t")
    per_round.setdefault(path, {}).setdefault(metric, []).append(float(val) if val else None)
r = {"rounds": rounds}
for path, metrics in per_round.items():
    d = r.setdefault(path, {})
    for metric, vals in metrics.items():
        got = [v for v in vals if v is not None]
        d[metric] = round(statistics.median(got), 3) if got else None
        d[metric + "_min"] = min(got) if got else None
        d[metric + "_max"] = max(got) if got else None
def ratio(a, b, m):
    try: return round(r[a][m] / r[b][m], 3)
    except Exception: return None
r["ratios"] = {
  "semnet_vs_vxlan_dnat_tcp": ratio("semnet", "kernel_vxlan_dnat", "tcp_gbps"),
  "semnet_vs_direct_tcp": ratio("semnet", "kernel_direct", "tcp_gbps"),
  "semnet_vs_vxlan_dnat_latency": ratio("semnet", "kernel_vxlan_dnat", "latency_p50_us"),
  "semnet_vs_direct_latency": ratio("semnet", "kernel_direct", "latency_p50_us"),
  "plaintext_vs_vxlan_dnat_tcp": ratio("semnet_plaintext", "kernel_vxlan_dnat", "tcp_gbps"),
  "semnet_vs_vxlan_dnat_latency_p99": ratio("semnet", "kernel_vxlan_dnat", "latency_p99_us"),
  "semnet_vs_vxlan_dnat_conn": ratio("semnet", "kernel_vxlan_dnat", "tcp_conn_per_s"),
  "semnet_vs_direct_conn": ratio("semnet", "kernel_direct", "tcp_conn_per_s"),
  "semnet_vs_vxlan_dnat_udp_pps": ratio("semnet", "kernel_vxlan_dnat", "udp_64b_pps"),
  "semnet_vs_direct_udp_pps": ratio("semnet", "kernel_direct", "udp_64b_pps"),
}
if "semnet_busypoll" in r:
  for m, key in (("tcp_gbps", "tcp"), ("latency_p50_us", "latency"), ("latency_p99_us", "latency_p99"),
                 ("tcp_conn_per_s", "conn"), ("cpu_s_per_gb", "cpu")):
    r["ratios"]["busypoll_vs_vxlan_dnat_" + key] = ratio("semnet_busypoll", "kernel_vxlan_dnat", m)
r["per_round"] = per_round
import os
bd = os.path.join(os.path.dirname(results), "breakdown.json")
if os.path.exists(bd):
    r["semnet_breakdown_us"] = json.load(open(bd))
print(json.dumps({k: v for k, v in r.items() if k != "per_round"}, indent=1))
if out:
    json.dump(r, open(out, "w"), indent=1)
PY
