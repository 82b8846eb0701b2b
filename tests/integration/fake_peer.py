#!/usr/bin/env python3
"""A misbehaving peer over mutual TLS, for the fan-out fault tests. It completes the TLS
handshake (client certificate required, verified against CA), reads one HTTP request, and:
  slow     answers 200 with an empty protobuf body after SECONDS (default 3)
  garbage  answers 200 with bytes that are not protobuf
  huge     announces a 100 MB body, sends 1 KB of it, then holds the connection
usage: fake_peer.py MODE CERT KEY CA PORTFILE [SECONDS]
Writes the port it listens on to PORTFILE, then serves until killed."""
import socket
import ssl
import sys
import threading
import time

mode, cert, key, ca, portfile = sys.argv[1:6]
delay = float(sys.argv[6]) if len(sys.argv) > 6 else 3.0

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.load_verify_locations(ca)
ctx.verify_mode = ssl.CERT_REQUIRED


def read_request(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return False
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    n = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v.strip())
    while len(body) < n:
        chunk = s.recv(65536)
        if not chunk:
            return False
        body += chunk
    return True


def serve(raw):
    try:
        s = ctx.wrap_socket(raw, server_side=True)
        while read_request(s):
            if mode == "slow":
                time.sleep(delay)
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                          b"Content-Length: 0\r\n\r\n")
            elif mode == "garbage":
                body = b"\xff\xff\xff\xff\x0f\x01\x02"
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                          b"Content-Length: %d\r\n\r\n" % len(body) + body)
            elif mode == "huge":
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                          b"Content-Length: 104857600\r\n\r\n" + b"\x00" * 1024)
                time.sleep(3600)
    except (OSError, ssl.SSLError):
        pass
    finally:
        raw.close()


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
with open(portfile, "w") as f:
    f.write(str(srv.getsockname()[1]))
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
