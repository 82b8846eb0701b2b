#!/usr/bin/env python3
"""A peer that never answers: it accepts TCP connections on a free loopback port and holds
them, saying nothing (no TLS, no HTTP). Writes the port to PORTFILE; runs until killed.

usage: silent_peer.py PORTFILE
"""
import os
import socket
import sys

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(64)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])  # never seen half-written
held = []
while True:
    c, _ = s.accept()
    held.append(c)
