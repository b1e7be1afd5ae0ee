#!/usr/bin/env python3
"""Latency breakdown of one packet's pass through SemNet, from a perf trace (run.sh --breakdown).

Reads `perf script --ns -F tid,time,event,trace` output of the events sched:sched_wakeup,
raw_syscalls:sys_enter and raw_syscalls:sys_exit, recorded while a UDP ping-pong (sockperf) runs
through the SemNet path, and cuts every one-way pass (client -> server or back) into stages at
system-call and scheduler boundaries of the threads named on the command line:

  --tun TID,...     the TUN reader threads (poll, read, ... sendto to the tunnel socket)
  --tunnel TID,...  the tunnel's event-loop threads (epoll, recvmsg, ... writev to the TUN)
  --app PID,...     the sockperf client and server (sendto, recvfrom)

No hook in the data path: the time between two system calls of one thread is user-space work
(translate and seal after the TUN read; open and translate after the tunnel receive). The stages
follow the packet's critical path: a send or write ends when the kernel wakes the next thread
(what is left of the system call after that runs in parallel with the woken thread), so the
stages do not overlap and their medians add up to roughly the one-way latency sockperf reports
(sockperf's ping-pong latency is half the round trip). Run perf with -k mono so that timestamps
taken on different CPUs compare. Prints a
table (median, p90, samples per stage) and, with --json FILE, writes the medians there.
Both directions are pooled: they run the same code on the same kind of thread.
"""
import argparse
import bisect
import json
import re
import statistics
import sys

# x86_64 system call numbers of the calls the stages are cut at.
READ, WRITE, WRITEV = 0, 1, 20
POLL, PPOLL = 7, 271
SENDTO, SENDMSG, SENDMMSG = 44, 46, 307
RECVFROM, RECVMSG, RECVMMSG = 45, 47, 299
EPOLL = {232, 281, 441}  # epoll_wait, epoll_pwait, epoll_pwait2
SENDS = {SENDTO, SENDMSG, SENDMMSG}
RECVS = {RECVFROM, RECVMSG, RECVMMSG}

STAGES = [
    ("app_send_to_tun_wakeup", "kernel: app sendto -> TUN reader woken (veth, bridge, forward, TUN queue)"),
    ("tun_read_wakeup", "TUN read wake-up: woken -> poll returns"),
    ("tun_read", "TUN read: poll returns -> read returns the packet"),
    ("translate_seal", "translate + seal (JVM, between read and the next syscall)"),
    ("batch_end", "batch end: drain read (EAGAIN) + flush -> sendto starts"),
    ("send", "send: sendto starts -> peer's tunnel thread woken (underlay veth, UDP enqueue)"),
    ("recv_wakeup", "receive wake-up: tunnel thread woken -> epoll returns"),
    ("tunnel_recv", "tunnel receive: epoll returns -> recvmsg returns the datagram"),
    ("open_translate", "open + translate (JVM, between recvmsg and the TUN write)"),
    ("write", "write: TUN writev starts -> app woken (kernel forwards to the instance)"),
    ("app_wakeup", "app wake-up: sockperf woken -> recvfrom returns"),
]

LINE = re.compile(r"^\s*(\d+)\s+(\d+\.\d+):\s+(\S+):\s+(.*)$")
ENTER = re.compile(r"NR (\d+)")
EXIT = re.compile(r"NR (\d+) = (-?\d+)")
WAKE = re.compile(r"pid=(\d+)")


def ids(s):
    return {int(x) for x in s.split(",") if x}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tun", required=True, type=ids)
    ap.add_argument("--tunnel", required=True, type=ids)
    ap.add_argument("--app", required=True, type=ids)
    ap.add_argument("--json")
    a = ap.parse_args()
    watched = a.tun | a.tunnel | a.app

    # Per thread: the ordered events (time_ns, kind, nr, ret); kind 'w' (woken), 'e' enter, 'x' exit.
    ev = {t: [] for t in watched}
    for line in sys.stdin:
        m = LINE.match(line)
        if not m:
            continue
        tid, ts, name, rest = int(m.group(1)), round(float(m.group(2)) * 1e9), m.group(3), m.group(4)
        if name.endswith("sched_wakeup"):
            w = WAKE.search(rest)
            if w and int(w.group(1)) in watched:
                ev[int(w.group(1))].append((ts, "w", -1, 0))
        elif tid in watched and name.endswith("sys_enter"):
            e = ENTER.search(rest)
            if e:
                ev[tid].append((ts, "e", int(e.group(1)), 0))
        elif tid in watched and name.endswith("sys_exit"):
            x = EXIT.search(rest)
            if x:
                ev[tid].append((ts, "x", int(x.group(1)), int(x.group(2))))
    for t in ev:
        ev[t].sort()

    samples = {k: [] for k, _ in STAGES}
    app_sends = sorted(ts for t in a.app for ts, k, nr, _ in ev[t] if k == "e" and nr in SENDS)
    tun_sends = sorted(ts for t in a.tun for ts, k, nr, _ in ev[t] if k == "e" and nr in SENDS)
    tun_writes = sorted(ts for t in a.tunnel for ts, k, nr, _ in ev[t] if k == "e" and nr in (WRITE, WRITEV))

    def last_before(sorted_ts, t):
        i = bisect.bisect_left(sorted_ts, t)
        return sorted_ts[i - 1] if i else None

    def woken(c, wake_stage, causes, cause_stage):
        """Adds a wake-up (woken -> ready) and the stage before it (the last cause -> woken)."""
        if c["woke"] is None:
            return
        samples[wake_stage].append(c["ready"] - c["woke"])
        cause = last_before(causes, c["woke"])
        if cause is not None and c["woke"] - cause < 1_000_000:
            samples[cause_stage].append(c["woke"] - cause)

    def cycles(events, waits):
        """Splits a thread's events at exits of its waiting call that reported readiness."""
        woke = None
        cur = None
        for e in events:
            ts, k, nr, ret = e
            if k == "w":
                woke = ts
                continue
            if k == "e" and nr in waits:
                if cur:
                    yield cur
                cur = None
                continue
            if k == "x" and nr in waits and ret > 0:
                cur = {"woke": woke, "ready": ts, "ev": []}
                woke = None
                continue
            if cur is not None:
                cur["ev"].append(e)
        if cur:
            yield cur

    # TUN reader: woken -> poll exit -> read enter/exit (packet) -> next enter -> ... -> sendto enter/exit.
    for t in a.tun:
        for c in cycles(ev[t], {POLL, PPOLL}):
            es = c["ev"]
            data_reads = [i for i, e in enumerate(es) if e[1] == "x" and e[2] == READ and e[3] > 0]
            sends = [i for i, e in enumerate(es) if e[1] == "e" and e[2] in SENDS]
            if len(data_reads) != 1 or len(sends) != 1 or sends[0] < data_reads[0]:
                continue  # several packets in one batch, or no tunnel send: not one clean pass
            r, s = data_reads[0], sends[0]
            nxt = next((e for e in es[r + 1:] if e[1] == "e"), None)
            if nxt is None:
                continue
            woken(c, "tun_read_wakeup", app_sends, "app_send_to_tun_wakeup")
            samples["tun_read"].append(es[r][0] - c["ready"])
            samples["translate_seal"].append(nxt[0] - es[r][0])
            samples["batch_end"].append(es[s][0] - nxt[0])

    # Tunnel event loop: woken -> epoll exit -> recvmsg exit (datagram) -> writev enter/exit.
    for t in a.tunnel:
        for c in cycles(ev[t], EPOLL):
            es = c["ev"]
            recvs = [i for i, e in enumerate(es) if e[1] == "x" and e[2] in RECVS and e[3] > 0]
            writes = [i for i, e in enumerate(es) if e[1] == "e" and e[2] in (WRITE, WRITEV)]
            if len(recvs) != 1 or len(writes) != 1 or writes[0] < recvs[0]:
                continue  # probes, several datagrams, or nothing written to the TUN
            r, w = recvs[0], writes[0]
            woken(c, "recv_wakeup", tun_sends, "send")
            samples["tunnel_recv"].append(es[r][0] - c["ready"])
            samples["open_translate"].append(es[w][0] - es[r][0])

    # Applications: woken -> the receive call returns data.
    for t in a.app:
        woke = None
        for ts, k, nr, ret in ev[t]:
            if k == "w":
                woke = ts
            elif k == "x" and nr in RECVS and ret > 0 and woke is not None:
                woken({"woke": woke, "ready": ts}, "app_wakeup", tun_writes, "write")
                woke = None

    # Ground truth for the sum: one app's sendto starts -> the other app's recvfrom returns.
    sends_by = sorted((ts, t) for t in a.app for ts, k, nr, _ in ev[t] if k == "e" and nr in SENDS)
    one_way = []
    for t in a.app:
        for ts, k, nr, ret in ev[t]:
            if k == "x" and nr in RECVS and ret > 0:
                i = bisect.bisect_left(sends_by, (ts,)) - 1
                if i >= 0 and sends_by[i][1] != t and ts - sends_by[i][0] < 10_000_000:
                    one_way.append(ts - sends_by[i][0])

    out = {}
    print(f"{'stage':<80} {'p50 us':>8} {'p90 us':>8} {'n':>7}")
    total = 0.0
    for key, label in STAGES:
        v = sorted(samples[key])
        if not v:
            print(f"{label:<80} {'-':>8} {'-':>8} {0:>7}")
            out[key] = None
            continue
        p50 = statistics.median(v) / 1000
        p90 = v[min(len(v) - 1, int(len(v) * 0.9))] / 1000
        total += p50
        out[key] = round(p50, 2)
        print(f"{label:<80} {p50:8.2f} {p90:8.2f} {len(v):7d}")
    out["one_way_sum_of_medians"] = round(total, 2)
    print(f"{'sum of the stage medians (one way)':<80} {total:8.2f}")
    if one_way:
        one_way.sort()
        p50 = statistics.median(one_way) / 1000
        out["one_way_traced_p50"] = round(p50, 2)
        print(f"{'traced one way: app sendto starts -> peer app recvfrom returns':<80} {p50:8.2f} "
              f"{one_way[min(len(one_way) - 1, int(len(one_way) * 0.9))] / 1000:8.2f} {len(one_way):7d}")
    if a.json:
        json.dump(out, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
