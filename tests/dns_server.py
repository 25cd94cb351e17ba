"""A loopback DNS server for tests: answers from a dict, over UDP and TCP, on 127.0.0.1.

    with LoopbackDNS({"example.com": {"MX": ["10 mx.example.com."], "TXT": ["v=spf1 -all"]}}) as dns:
        settings.AICMO_DNS_NAMESERVERS = dns.nameservers   # "127.0.0.1:<port>"

Records are ``{name: {rdtype: [value, …]}}``: TXT values are plain strings (split into 255-byte
character-strings here, as a zone would publish a long DKIM key), other types are zone-file text
("10 mx.example.com.", "192.0.2.1"). ``records`` may be changed while the server runs (a test
removes a DMARC record, then publishes it). A name that is not in the dict is NXDOMAIN; a known name
without the asked type is an empty NOERROR answer (NoAnswer), as a real server would say.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

__all__ = ["LoopbackDNS", "txt_zone_text"]

TTL = 60


def txt_zone_text(value: str) -> str:
    """One TXT value as zone text: quoted character-strings of at most 255 bytes each."""
    raw = value.encode()
    chunks = [raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""]
    return " ".join('"' + c.decode().replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks)


def _key(name: str) -> str:
    return name.lower().rstrip(".")


class LoopbackDNS:
    def __init__(self, records: dict[str, dict[str, list[str]]] | None = None) -> None:
        self.records: dict[str, dict[str, list[str]]] = {_key(k): v for k, v in (records or {}).items()}
        self.queries: list[tuple[str, str]] = []  # (name, type) asked, in order
        self._servers: list[socketserver.BaseServer] = []

    # --- records -----------------------------------------------------------------------------

    def set(self, name: str, rdtype: str, values: list[str]) -> None:
        self.records.setdefault(_key(name), {})[rdtype.upper()] = list(values)

    def remove(self, name: str, rdtype: str | None = None) -> None:
        if rdtype is None:
            self.records.pop(_key(name), None)
        else:
            self.records.get(_key(name), {}).pop(rdtype.upper(), None)

    def answer(self, wire: bytes) -> bytes:
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        name, rdtype = _key(question.name.to_text()), dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name, rdtype))
        entry = {k: list(v) for k, v in self.records.get(name, {}).items()} if name in self.records else None
        if entry is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif entry.get(rdtype):
            texts = [txt_zone_text(v) for v in entry[rdtype]] if rdtype == "TXT" else entry[rdtype]
            response.answer.append(dns.rrset.from_text(question.name, TTL, "IN", rdtype, *texts))
        return response.to_wire()

    # --- serving -----------------------------------------------------------------------------

    def start(self) -> LoopbackDNS:
        owner = self

        class UDPHandler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data, sock = self.request
                sock.sendto(owner.answer(data), self.client_address)

        class TCPHandler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                header = self.request.recv(2)
                if len(header) < 2:
                    return
                (length,) = struct.unpack("!H", header)
                data = b""
                while len(data) < length:
                    chunk = self.request.recv(length - len(data))
                    if not chunk:
                        return
                    data += chunk
                reply = owner.answer(data)
                self.request.sendall(struct.pack("!H", len(reply)) + reply)

        udp = socketserver.ThreadingUDPServer(("127.0.0.1", 0), UDPHandler)
        # TCP on the same port: a truncated UDP answer (a long key) is retried there.
        tcp_class = type("TCP", (socketserver.ThreadingTCPServer,), {"allow_reuse_address": True})
        try:
            tcp = tcp_class(("127.0.0.1", udp.server_address[1]), TCPHandler)
        except OSError:
            tcp = None
        self._servers = [s for s in (udp, tcp) if s is not None]
        for server in self._servers:
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    @property
    def port(self) -> int:
        return self._servers[0].server_address[1]

    @property
    def nameservers(self) -> str:
        """The ``AICMO_DNS_NAMESERVERS`` value pointing at this server."""
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers = []

    def __enter__(self) -> LoopbackDNS:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _probe(port: int) -> None:  # pragma: no cover - a manual check: python -m tests.dns_server
    query = dns.message.make_query("example.com", "TXT")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.sendto(query.to_wire(), ("127.0.0.1", port))
    print(dns.message.from_wire(sock.recv(4096)))


if __name__ == "__main__":  # pragma: no cover
    with LoopbackDNS({"example.com": {"TXT": ["v=spf1 -all"]}}) as server:
        _probe(server.port)
