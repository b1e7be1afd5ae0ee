# Echo server of an instance that migrates: UDP datagrams and TCP lines are sent straight back.
# Bound to the wildcard so it answers on whatever namespace IP the instance has.
import socket, struct, sys, threading

udp_port, tcp_port = int(sys.argv[1]), int(sys.argv[2])

def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # Room for a whole replayed burst (root may exceed rmem_max), so the socket is not what loses it.
    s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE
    s.bind(("0.0.0.0", udp_port))
    top = {}  # highest sequence number seen per sender (a client run is one source port)
    while True:
        try:
            d, a = s.recvfrom(2048)
            s.sendto(d, a)
        except OSError:
            continue  # no route while frozen: the datagram is lost like any other
        if len(d) >= 8:
            seq = struct.unpack("!q", d[:8])[0]
            if seq < top.get(a, -1):
                # arrived after a later datagram of the same sender: reordered on the way here
                print("O %s:%d %d %d" % (a[0], a[1], seq, top[a]), flush=True)
            top[a] = max(top.get(a, -1), seq)

def conn(c):
    with c:
        f = c.makefile("rb")
        for line in f:
            c.sendall(line)

t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("0.0.0.0", tcp_port))
t.listen(16)
threading.Thread(target=udp, daemon=True).start()
print("ready", flush=True)
while True:
    c, _ = t.accept()
    threading.Thread(target=conn, args=(c,), daemon=True).start()
