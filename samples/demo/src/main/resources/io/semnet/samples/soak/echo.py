# The soak's instance server: echoes one line per TCP connection and every UDP datagram on PORT (dual stack).
import socket, sys, threading

port = int(sys.argv[1])


def listener(kind):
    s = socket.socket(socket.AF_INET6, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    return s


def serve(c):
    with c:
        c.settimeout(5)
        try:
            data = c.recv(64)
            if data:
                c.sendall(data)
        except OSError:
            pass


def tcp():
    s = listener(socket.SOCK_STREAM)
    s.listen(1024)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def udp():
    s = listener(socket.SOCK_DGRAM)
    while True:
        data, peer = s.recvfrom(2048)
        s.sendto(data, peer)


threading.Thread(target=tcp, daemon=True).start()
print("echo listening on", port, flush=True)
udp()
