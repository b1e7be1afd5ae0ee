# A true mDNS querier for tests: sends one query from port 5353 to the mDNS group (QM, or QU with the
# unicast-response bit) and reports every response it hears within the wait, and how it arrived.
# Mode "legacy" sends from an ephemeral port on an unconnected socket (RFC 6762 §6.7 legacy unicast).
# An IPv6 source address selects ff02::fb on the given interface.
# usage: mdns_query.py <source-ip> <name> <qtype> <qm|qu|legacy> <wait-seconds> [interface]
import select
import socket
import struct
import sys
import time

from scapy.all import DNS, DNSQR, raw

src, name, qtype, mode, wait = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
v6 = ":" in src
family = socket.AF_INET6 if v6 else socket.AF_INET
ifindex = socket.if_nametoindex(sys.argv[6]) if v6 else 0
GROUP = "ff02::fb" if v6 else "224.0.0.251"


def addr(host, port):
    return (host, port, 0, ifindex) if v6 else (host, port)


def sock(bind_addr, port=5353):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(addr(bind_addr, port))
    return s


# One socket bound to the group hears only multicast; one bound to our address hears only unicast.
mcast = sock(GROUP)
ucast = sock(src, 0 if mode == "legacy" else 5353)
if v6:
    mcast.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, socket.inet_pton(socket.AF_INET6, GROUP) + struct.pack("@I", ifindex))
    ucast.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
    ucast.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    ucast.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
else:
    mcast.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(GROUP) + socket.inet_aton(src))
    ucast.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(src))
    ucast.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
    ucast.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)

qclass = 0x8001 if mode == "qu" else 1
query = DNS(id=0x2a2a if mode == "legacy" else 0, rd=0, qd=DNSQR(qname=name, qtype=qtype, qclass=qclass))
ucast.sendto(raw(query), addr(GROUP, 5353))

deadline = time.time() + wait
while time.time() < deadline:
    ready, _, _ = select.select([mcast, ucast], [], [], max(0.0, deadline - time.time()))
    for s in ready:
        data, peer = s.recvfrom(9000)
        msg = DNS(data)
        if msg.qr != 1:
            continue
        how = "MULTICAST" if s is mcast else "UNICAST"
        host = peer[0].split("%")[0]
        for i in range(msg.ancount):
            rr = msg.an[i]
            print(f"{how} from={host}:{peer[1]} id={msg.id} qd={msg.qdcount} name={rr.rrname.decode()} "
                  f"type={rr.type} class={rr.rclass} ttl={rr.ttl} rdata={rr.rdata}", flush=True)
print("DONE", flush=True)
