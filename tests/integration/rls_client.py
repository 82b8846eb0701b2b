#!/usr/bin/env python3
"""A record locator client over mutual TLS with hand-written protobuf (no generated code), for
the integration tests. Prints one JSON object per call:
  {"status": 200, "sequence": S, "replay": B, "applied": A, "conflict": B, "gap": B}
  {"status": 200, "orgs": [{"org_id": O, "hits": N}, ...]} locate, in the server's order
  {"status": 400, "error": {"code": C, "message": M}}      refused with an Error
  {"status": null, "transport_error": "..."}               no HTTP answer (TLS refusal, reset)

usage: rls_client.py HOST PORT CA CERT KEY publish [--add HEX...] [--remove HEX...]
                                           [--random-add N] [--sequence S] [--stream HEX]
       rls_client.py HOST PORT CA CERT KEY snapshot [HEX...] [--after HEX] [--through HEX]
                                           --sequence S --stream HEX
       rls_client.py HOST PORT CA CERT KEY check --stream HEX [--acknowledged S]
       rls_client.py HOST PORT CA CERT KEY locate [HEX...] [--random N]
       rls_client.py HOST PORT CA CERT KEY burst N
       rls_client.py HOST PORT CA CERT KEY raw PATH (--body-hex HEX | --body-text TEXT)
Tokens are hex strings, sent as given (their length is not checked here, so that a test can
send a wrong one); --random-add N / --random N add N random 32-byte tokens. burst makes N
connections, then sends a publish of one random token on each (sequences 1..N) back to back
(then, with --kill PID, sends PID a SIGTERM), and prints {"acked": [sequence or null, ...], "tokens": [HEX, ...]}.
"""
import argparse
import json
import os
import signal
import socket
import ssl
import sys

TIMEOUT = 20


def pb_varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def pb_bytes(num, payload):
    return pb_varint(num << 3 | 2) + pb_varint(len(payload)) + payload


def pb_uint(num, value):
    return pb_varint(num << 3) + pb_varint(value)


def pb_read_varint(buf, i):
    n = shift = 0
    while True:
        if i >= len(buf):
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def pb_fields(buf):
    """(number, value) pairs: ints for varints, bytes for length-delimited fields."""
    i = 0
    out = []
    while i < len(buf):
        key, i = pb_read_varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = pb_read_varint(buf, i)
        elif wire == 2:
            n, i = pb_read_varint(buf, i)
            v = buf[i:i + n]
            if len(v) != n:
                raise ValueError("truncated field")
            i += n
        else:
            raise ValueError("unexpected wire type %d" % wire)
        out.append((num, v))
    return out


def connect(host, port, ca, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    ctx.load_cert_chain(cert, key)
    raw = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def post(host, port, ca, cert, key, path, body):
    """(status, body) or (None, reason) when there is no HTTP answer."""
    try:
        s = connect(host, port, ca, cert, key)
        s.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\n"
                  b"Content-Type: application/x-protobuf\r\nContent-Length: "
                  + str(len(body)).encode() + b"\r\n\r\n" + body)
        out = read_answer(s)
        s.close()
        return out
    except (ssl.SSLError, ConnectionError, socket.timeout, OSError) as e:
        return None, "%s: %s" % (type(e).__name__, e)


def read_answer(s):
    """(status, body) of one HTTP answer on s."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return None, "connection closed before an answer"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = 0
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    return int(lines[0].split(b" ")[1]), rest[:length]


def burst(conn, n, path, kill=0):
    """n connections made first, then a publish of one new token on each, sent back to back,
    (then SIGTERM to process `kill`, if given), then every answer read: what the RLS
    acknowledged (None where there was no 200, as when it stops meanwhile), and the tokens."""
    socks = [connect(*conn) for _ in range(n)]
    toks = [os.urandom(32) for _ in range(n)]
    sent = []
    for i, s in enumerate(socks):
        body = pb_bytes(1, toks[i]) + pb_uint(3, i + 1)
        try:
            s.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\n"
                      b"Content-Type: application/x-protobuf\r\nContent-Length: "
                      + str(len(body)).encode() + b"\r\n\r\n" + body)
            sent.append(True)
        except (ssl.SSLError, ConnectionError, socket.timeout, OSError):
            sent.append(False)
    if kill:
        os.kill(kill, signal.SIGTERM)
    acked = []
    for i, s in enumerate(socks):
        try:
            status, rbody = read_answer(s) if sent[i] else (None, b"")
        except (ssl.SSLError, ConnectionError, socket.timeout, OSError):
            status, rbody = None, b""
        acked.append(decode_ack(rbody)["sequence"] if status == 200 else None)
        s.close()
    return {"acked": acked, "tokens": [t.hex() for t in toks]}


def answer(status, body, ok_decode):
    if status is None:
        return {"status": None, "transport_error": body}
    out = {"status": status}
    if status == 200:
        out.update(ok_decode(body))
    else:
        err = {"code": None, "message": None}
        for num, v in pb_fields(body):
            if num == 1:
                err["code"] = v
            elif num == 2:
                err["message"] = v.decode("utf-8", "replace")
        out["error"] = err
    return out


def decode_ack(body):
    out = {"sequence": 0, "replay": False, "applied": 0, "conflict": False, "gap": False}
    for num, v in pb_fields(body):
        if num == 1:
            out["sequence"] = v
        elif num == 2:
            out["replay"] = bool(v)
        elif num == 3:
            out["applied"] = v
        elif num == 4:
            out["conflict"] = bool(v)
        elif num == 5:
            out["gap"] = bool(v)
    return out


def decode_locate(body):
    orgs = []
    for num, v in pb_fields(body):
        if num != 1:
            continue
        hit = {"org_id": None, "hits": 0}
        for n2, v2 in pb_fields(v):
            if n2 == 1:
                hit["org_id"] = v2.decode()
            elif n2 == 2:
                hit["hits"] = v2
        orgs.append(hit)
    return {"orgs": orgs}


def sequence_stream(a):
    """Fields 3 (sequence) and 4 (stream) of a LocatorPublish or LocatorSnapshot, when given."""
    body = pb_uint(3, a.sequence) if a.sequence else b""
    if a.stream is not None:
        body += pb_bytes(4, bytes.fromhex(a.stream))
    return body


def main():
    ap = argparse.ArgumentParser(description="RLS client for the integration tests")
    for name in ("host", "port", "ca", "cert", "key"):
        ap.add_argument(name)
    sub = ap.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("publish")
    p.add_argument("--add", nargs="*", default=[])
    p.add_argument("--remove", nargs="*", default=[])
    p.add_argument("--random-add", type=int, default=0)
    p.add_argument("--sequence", type=int, default=0)
    p.add_argument("--stream", help="the publisher's stream id, hex (16 bytes)")
    p.add_argument("--path", default="/hie/v1/rls/publish")
    sn = sub.add_parser("snapshot")
    sn.add_argument("tokens", nargs="*")
    sn.add_argument("--after")
    sn.add_argument("--through")
    sn.add_argument("--sequence", type=int, default=0)
    sn.add_argument("--stream")
    sn.add_argument("--path", default="/hie/v1/rls/snapshot")
    ck = sub.add_parser("check")
    ck.add_argument("--stream", required=True)
    ck.add_argument("--acknowledged", type=int, default=0)
    ck.add_argument("--path", default="/hie/v1/rls/check")
    loc = sub.add_parser("locate")
    loc.add_argument("tokens", nargs="*")
    loc.add_argument("--random", type=int, default=0)
    loc.add_argument("--path", default="/hie/v1/rls/locate")
    b = sub.add_parser("burst")
    b.add_argument("n", type=int)
    b.add_argument("--path", default="/hie/v1/rls/publish")
    b.add_argument("--kill", type=int, default=0)
    raw = sub.add_parser("raw")
    raw.add_argument("path")
    g = raw.add_mutually_exclusive_group(required=True)
    g.add_argument("--body-hex")
    g.add_argument("--body-text")
    a = ap.parse_args()
    conn = (a.host, a.port, a.ca, a.cert, a.key)

    if a.mode == "publish":
        add = [bytes.fromhex(t) for t in a.add] + [os.urandom(32) for _ in range(a.random_add)]
        body = b"".join(pb_bytes(1, t) for t in add)
        body += b"".join(pb_bytes(2, bytes.fromhex(t)) for t in a.remove)
        out = answer(*post(*conn, a.path, body + sequence_stream(a)), decode_ack)
    elif a.mode == "snapshot":
        body = b"".join(pb_bytes(1, bytes.fromhex(t)) for t in a.tokens)
        if a.after is not None or a.through is not None:
            rng = b""
            if a.after is not None:
                rng += pb_bytes(1, bytes.fromhex(a.after))
            if a.through is not None:
                rng += pb_bytes(2, bytes.fromhex(a.through))
            body += pb_bytes(2, rng)
        out = answer(*post(*conn, a.path, body + sequence_stream(a)), decode_ack)
    elif a.mode == "check":
        body = pb_bytes(1, bytes.fromhex(a.stream))
        if a.acknowledged:
            body += pb_uint(2, a.acknowledged)
        status, rbody = post(*conn, a.path, body)
        out = answer(status, rbody, decode_ack)
    elif a.mode == "burst":
        out = burst(conn, a.n, a.path, a.kill)
    elif a.mode == "locate":
        toks = [bytes.fromhex(t) for t in a.tokens] + [os.urandom(32) for _ in range(a.random)]
        status, rbody = post(*conn, a.path, b"".join(pb_bytes(1, t) for t in toks))
        out = answer(status, rbody, decode_locate)
    else:
        body = bytes.fromhex(a.body_hex) if a.body_hex is not None else a.body_text.encode()
        status, rbody = post(*conn, a.path, body)
        out = answer(status, rbody, lambda b: {"bytes": len(b)})
    json.dump(out, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
