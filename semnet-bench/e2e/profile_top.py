#!/usr/bin/env python3
"""Summarises async-profiler collapsed stacks (run.sh --profile): CPU share per thread (numbers in
thread names folded, so the same role on two agents adds up), the hottest frames by self time, and
SemNet's own methods by inclusive time. Usage: profile_top.py FILE... [--top N]"""
import collections
import re
import sys

args = [a for a in sys.argv[1:] if not a.startswith("--")]
top = 30
if "--top" in sys.argv:
    top = int(sys.argv[sys.argv.index("--top") + 1])
    args = [a for a in args if a != str(top)]
threads, self_time, inclusive = collections.Counter(), collections.Counter(), collections.Counter()
total = 0
for name in args:
    for line in open(name):
        stack, _, n = line.rstrip("\n").rpartition(" ")
        if not n.isdigit():
            continue
        n = int(n)
        frames = stack.split(";")
        total += n
        # "[tun-sn0-w1-q0 tid=123]" -> "tun-sn0-w?-q0": one role across both agents
        threads[re.sub(r"-w\d+", "-w?", re.sub(r" tid=\d+\]$|^\[", "", frames[0]))] += n
        self_time[frames[-1]] += n
        for f in set(frames[1:]):
            inclusive[f] += n
if not total:
    sys.exit("no samples")


def show(title, counter, keep=lambda k: True):
    print("-- " + title)
    shown = 0
    for k, v in counter.most_common():
        if keep(k):
            print("%5.1f%%  %s" % (100.0 * v / total, k))
            shown += 1
            if shown == top:
                break


print("samples %d (1 ms of CPU each)" % total)
show("threads", threads)
show("self time", self_time)
show("inclusive, io/semnet", inclusive, lambda k: k.startswith("io/semnet/"))
