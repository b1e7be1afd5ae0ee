# The soak's load: new flows to DST:PORT at RATE per minute for SECONDS, alternating a TCP connection
# (connect, send a line, read the echo, close) and a UDP exchange from a fresh socket (a new source port,
# so a new flow), each with a 1 s timeout, paced over THREADS threads. Prints cumulative counts as one
# JSON line every 2 s and at the end.
import json, socket, sys, threading, time

dst, port, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
THREADS = 16
counts = {"tcp_ok": 0, "tcp_fail": 0, "udp_ok": 0, "udp_fail": 0}
lock = threading.Lock()
end = time.monotonic() + seconds


def one(kind):
    ok = False
    try:
        if kind == "tcp":
            with socket.create_connection((dst, port), timeout=1) as s:
                s.sendall(b"soak\n")
                ok = s.recv(16) == b"soak\n"
        else:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(1)
                s.sendto(b"soak\n", (dst, port))
                ok = s.recv(16) == b"soak\n"
    except OSError:
        pass
    with lock:
        counts[kind + ("_ok" if ok else "_fail")] += 1


def worker(k):
    interval = THREADS * 60.0 / rate
    due = time.monotonic() + k * interval / THREADS
    n = k
    while True:
        now = time.monotonic()
        if now >= end:
            return
        if due > now:
            time.sleep(due - now)
        elif now - due > 1:
            due = now  # behind by more than a second: do not burst to catch up
        one("tcp" if n % 2 == 0 else "udp")
        n += 1
        due += interval


def report():
    with lock:
        print(json.dumps(dict(counts, t=round(seconds - (end - time.monotonic()), 1))), flush=True)


threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(THREADS)]
for t in threads:
    t.start()
while any(t.is_alive() for t in threads):
    time.sleep(2)
    report()
report()
