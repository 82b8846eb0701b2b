#!/usr/bin/env python3
"""Raw HTTP over mutual TLS against a running hiepeerd: the malformed-request battery and
the client-authentication matrix. Judged by the application's answer, not the handshake
(under TLS 1.3 a client finishes its handshake before the server has judged its
certificate).

usage: peer_battery.py battery HOST PORT CA CERT KEY DOCID DOCBYTES_SHA256
       peer_battery.py auth HOST PORT CA DOCID EXPECT CERT KEY [CERT KEY ...]
       peer_battery.py resume HOST PORT CA CERT KEY DOCID TRUST_CHANGE_CMD SUSPEND_CMD
       peer_battery.py limits HOST PORT CA CERT KEY DOCID PER_PEER_CAP
       peer_battery.py discover HOST PORT CA CERT KEY FAMILY GIVEN BIRTH_DATE
         EXPECT is 'ok' or 'refused'; each CERT KEY pair is tried over TLS 1.2 and 1.3.
"""
import hashlib
import socket
import ssl
import sys

TIMEOUT = 10


def connect(host, port, ca, cert, key, version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    if version == "1.2":
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    elif version == "1.3":
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    raw = socket.create_connection((host, port), timeout=TIMEOUT)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def read_response(s):
    """Read one HTTP response: (status, headers dict, body). status None on EOF/reset."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                return None, {}, data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ")[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            headers[k.strip().lower().decode()] = v.strip().decode()
        n = int(headers.get("content-length", "0"))
        while len(body) < n:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
        return status, headers, body
    except (ssl.SSLError, ConnectionError, socket.timeout, OSError) as e:
        return None, {"error": str(e)}, data


def pb_varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def pb_field(num, wire, payload):
    key = pb_varint(num << 3 | wire)
    if wire == 2:
        return key + pb_varint(len(payload)) + payload
    return key + pb_varint(payload)


def retrieve_body(docid):
    # RetrieveRequest { document_ids = 1 (string); purpose = 2 (enum TREATMENT = 1) }
    return pb_field(1, 2, docid.encode()) + pb_field(2, 0, 1)


def post(path, body, extra=b""):
    return (b"POST " + path + b" HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/x-protobuf\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body)


def good_request(args):
    host, port, ca, cert, key, docid, sha = args
    s = connect(host, port, ca, cert, key)
    s.sendall(post(b"/hie/v1/documents/retrieve", retrieve_body(docid)))
    status, _, body = read_response(s)
    s.close()
    return status == 200 and len(body) > 0


def send_case(host, port, ca, cert, key, raw):
    """One malformed request on a new connection: (status, headers, body, how sending went)."""
    s = connect(host, port, ca, cert, key)
    sent = "ok (%s)" % s.version()
    try:
        s.sendall(raw)
    except (ConnectionError, ssl.SSLError) as e:
        sent = "failed: %s" % e
    status, headers, rbody = read_response(s)
    s.close()
    return status, headers, rbody, sent


def battery(args):
    host, port, ca, cert, key, docid, sha = args
    body = retrieve_body(docid)
    clen = str(len(body)).encode()
    R = b"POST /hie/v1/documents/retrieve HTTP/1.1\r\n"
    H = b"Host: localhost\r\n"
    cases = [
        ("two Content-Length (equal)", R + H + b"Content-Length: " + clen + b"\r\nContent-Length: " + clen + b"\r\n\r\n" + body, 400),
        ("two Content-Length (different)", R + H + b"Content-Length: " + clen + b"\r\nContent-Length: 1\r\n\r\n" + body, 400),
        ("Content-Length with Transfer-Encoding", R + H + b"Content-Length: " + clen + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + body, 400),
        ("'Transfer-Encoding : chunked'", R + H + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400),
        ("Transfer-Encoding alone", R + H + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411),
        ("empty header name", R + H + b": value\r\nContent-Length: " + clen + b"\r\n\r\n" + body, 400),
        ("whitespace in header name", R + H + b"Bad Name: x\r\nContent-Length: " + clen + b"\r\n\r\n" + body, 400),
        ("NUL in header value", R + H + b"X-A: a\x00b\r\nContent-Length: " + clen + b"\r\n\r\n" + body, 400),
        ("bare CR in header value", R + H + b"X-A: a\rb\r\nContent-Length: " + clen + b"\r\n\r\n" + body, 400),
        ("obs-fold", R + H + b"X-A: a\r\n b\r\nContent-Length: " + clen + b"\r\n\r\n" + body, 400),
        ("no Host on HTTP/1.1", R + b"Content-Length: " + clen + b"\r\n\r\n" + body, 400),
        ("two Host", R + H + H + b"Content-Length: " + clen + b"\r\n\r\n" + body, 400),
        ("absolute-form target", b"POST https://localhost/hie/v1/documents/retrieve HTTP/1.1\r\n" + H + b"Content-Length: " + clen + b"\r\n\r\n" + body, 400),
        ("'..' in the path", b"GET /hie/v1/../v1/health HTTP/1.1\r\n" + H + b"\r\n", 400),
        ("%2e in the path", b"GET /hie/v1/%2e%2e/health HTTP/1.1\r\n" + H + b"\r\n", 400),
        ("%00 in the query", b"GET /hie/v1/health?a=%00 HTTP/1.1\r\n" + H + b"\r\n", 400),
        ("CRLF in the target", b"GET /hie/v1/health\r\nX: y HTTP/1.1\r\n" + H + b"\r\n", 400),
        ("overlong target", b"GET /" + b"a" * 4096 + b" HTTP/1.1\r\n" + H + b"\r\n", 414),
        ("head over 8 KiB", b"GET /hie/v1/health HTTP/1.1\r\n" + H + b"X-Big: " + b"a" * 9000 + b"\r\n\r\n", 431),
        ("body over the limit", R + H + b"Content-Length: 104857600\r\n\r\n" + b"x" * 65536, 413),
        ("POST without Content-Length", R + H + b"\r\n", 411),
        ("unknown method", b"PUT /hie/v1/health HTTP/1.1\r\n" + H + b"\r\n", 501),
        ("HTTP/2.0 in a request line", b"GET /hie/v1/health HTTP/2.0\r\n" + H + b"\r\n", 505),
        ("garbage", b"\x16\x03\x01\x00\xff\xff garbage\r\n\r\n", 400),
        ("wrong method on a route", b"GET /hie/v1/documents/retrieve HTTP/1.1\r\n" + H + b"\r\n", 405),
        ("no such route", b"GET /hie/v1/nothing HTTP/1.1\r\n" + H + b"\r\n", 404),
        ("document id '..' in the body", post(b"/hie/v1/documents/retrieve", pb_field(1, 2, b"../../etc/passwd") + pb_field(2, 0, 1)), 400),
        ("document id with %2e", post(b"/hie/v1/documents/retrieve", pb_field(1, 2, b"%2e%2e") + pb_field(2, 0, 1)), 400),
        ("document id with NUL", post(b"/hie/v1/documents/retrieve", pb_field(1, 2, b"0" * 31 + b"\x00") + pb_field(2, 0, 1)), 400),
        ("document id with CRLF", post(b"/hie/v1/documents/retrieve", pb_field(1, 2, b"0" * 30 + b"\r\n") + pb_field(2, 0, 1)), 400),
        ("overlong document id", post(b"/hie/v1/documents/retrieve", pb_field(1, 2, b"0" * 200) + pb_field(2, 0, 1)), 400),
        ("garbage protobuf", post(b"/hie/v1/documents/retrieve", b"\xff\xff\xff\xff\x0f"), 400),
        ("patient id '..' in a query", post(b"/hie/v1/documents/query", pb_field(1, 2, b"..") + pb_field(7, 0, 1)), 400),
    ]
    failures = 0
    for name, raw, want in cases:
        status, headers, rbody, sent = send_case(host, port, ca, cert, key, raw)
        retried = ""
        if status is None:
            # The connection ended before any answer. Once seen in CI (unreproduced in 100+
            # runs under load): say what the client saw, and judge the case on a second try.
            retried = "   (first try: no answer: %s; read %r; sendall %s)" % (
                headers.get("error", "EOF"), rbody[:80], sent)
            status, headers, rbody, sent = send_case(host, port, ca, cert, key, raw)
        ok = status == want
        if status is not None and status >= 400 and rbody:
            # the Error message must not echo input: no document bytes, no raw target
            ok = ok and b"passwd" not in rbody
        again = good_request(args)
        print("%-40s want %s got %s%s%s%s" % (name, want, status, retried,
              "" if ok else "   <-- FAIL (%s; read %r; sendall %s)" % (
                  headers.get("error", "no error"), rbody[:80], sent),
              "" if again else "   <-- next good request FAILED"))
        if not ok or not again:
            failures += 1
    # Pipelining: two requests in one write are answered in order.
    s = connect(host, port, ca, cert, key)
    s.sendall(post(b"/hie/v1/documents/retrieve", body) + b"GET /hie/v1/health HTTP/1.1\r\n" + H + b"\r\n")
    a, _, _ = read_response(s)
    b, _, _ = read_response(s)
    s.close()
    print("%-40s want 200 200 got %s %s" % ("pipelined requests", a, b))
    if (a, b) != (200, 200):
        failures += 1
    # Keep-alive: 50 requests on one connection.
    s = connect(host, port, ca, cert, key)
    n_ok = 0
    for _ in range(50):
        s.sendall(post(b"/hie/v1/documents/retrieve", body))
        st, _, _ = read_response(s)
        n_ok += st == 200
    s.close()
    print("%-40s want 50 got %d" % ("keep-alive requests", n_ok))
    if n_ok != 50:
        failures += 1
    return failures


def auth(args):
    host, port, ca, docid, expect = args[:5]
    pairs = args[5:]
    failures = 0
    for i in range(0, len(pairs), 2):
        cert, key = pairs[i], pairs[i + 1]
        if cert == "-":
            cert = key = None
        for version in ("1.2", "1.3"):
            status, leaked, err = None, False, ""
            try:
                s = connect(host, port, ca, cert, key, version)
                s.sendall(post(b"/hie/v1/documents/retrieve", retrieve_body(docid)))
                status, _, body = read_response(s)
                leaked = docid.encode() in body
                s.close()
            except (ssl.SSLError, ConnectionError, OSError) as e:
                err = type(e).__name__
            if expect == "ok":
                ok = status == 200 and leaked
            else:
                ok = status != 200 and not leaked
            print("%-28s TLS %s: %s%s" % (cert or "(no certificate)", version,
                  "200" if status == 200 else "refused (%s)" % (status or err or "closed"),
                  "" if ok else "   <-- FAIL (expected %s)" % expect))
            failures += not ok
    return failures


_contexts = {}


def fetch(host, port, ca, cert, key, docid, version, session=None):
    """One retrieve; returns (status or None, resumed, session, leaked). A session can only
    be offered through the context that made it, so contexts are kept per version."""
    ctx = _contexts.get((cert, version))
    if ctx is None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(ca)
        ctx.load_cert_chain(cert, key)
        v = ssl.TLSVersion.TLSv1_2 if version == "1.2" else ssl.TLSVersion.TLSv1_3
        ctx.minimum_version = ctx.maximum_version = v
        _contexts[(cert, version)] = ctx
    try:
        raw = socket.create_connection((host, port), timeout=TIMEOUT)
        s = ctx.wrap_socket(raw, server_hostname="localhost", session=session)
        s.sendall(post(b"/hie/v1/documents/retrieve", retrieve_body(docid)))
        status, _, body = read_response(s)
        out = (status, s.session_reused, s.session, docid.encode() in body)
        s.close()
        return out
    except (ssl.SSLError, ConnectionError, OSError):
        return None, False, None, False


def resume(args):
    """Sessions and trust changes: a session resumes while trust is unchanged, is not
    resumed after a trust change, and a peer suspended meanwhile is refused even when it
    offers a session from before."""
    import subprocess
    import time
    host, port, ca, cert, key, docid, change_cmd, suspend_cmd = args
    failures = 0

    def check(what, ok):
        nonlocal failures
        print("%-62s %s" % (what, "ok" if ok else "FAIL"))
        failures += not ok

    for version in ("1.2", "1.3"):
        st, _, sess, _ = fetch(host, port, ca, cert, key, docid, version)
        check("TLS %s: full handshake" % version, st == 200 and sess is not None)
        st, reused, sess2, _ = fetch(host, port, ca, cert, key, docid, version, sess)
        check("TLS %s: the session resumes" % version, st == 200 and reused)
        subprocess.run(change_cmd, shell=True, check=True, stdout=subprocess.DEVNULL)
        time.sleep(1.6)  # workers look at the trust generation every second
        st, reused, _, _ = fetch(host, port, ca, cert, key, docid, version, sess2 or sess)
        check("TLS %s: after a trust change the old session is not resumed" % version,
              st == 200 and not reused)
    st, _, sess, _ = fetch(host, port, ca, cert, key, docid, "1.2")
    subprocess.run(suspend_cmd, shell=True, check=True, stdout=subprocess.DEVNULL)
    time.sleep(1.6)
    st, reused, _, leaked = fetch(host, port, ca, cert, key, docid, "1.2", sess)
    check("suspended peer offering an old session: refused", st != 200 and not leaked)
    return failures


def limits(args):
    """Connection caps and the header timeout (the node runs with max_connections_per_peer
    = PER_PEER and header_timeout = 1s)."""
    import time
    host, port, ca, cert, key, docid, per_peer = args
    per_peer = int(per_peer)
    failures = 0

    def check(what, ok):
        nonlocal failures
        print("%-62s %s" % (what, "ok" if ok else "FAIL"))
        failures += not ok

    held = []
    for _ in range(per_peer):
        s = connect(host, port, ca, cert, key)
        s.sendall(post(b"/hie/v1/documents/retrieve", retrieve_body(docid)))
        st, _, _ = read_response(s)
        held.append((s, st))
    check("%d connections of one peer are served" % per_peer,
          all(st == 200 for _, st in held))
    try:
        s = connect(host, port, ca, cert, key)
        s.sendall(post(b"/hie/v1/documents/retrieve", retrieve_body(docid)))
        st, _, _ = read_response(s)
        s.close()
    except (ssl.SSLError, ConnectionError, OSError):
        st = None
    check("one more connection of the same peer is refused", st is None)
    held[0][0].close()
    time.sleep(0.3)
    check("after one closes, a new connection is served", good_request(args[:6] + ["-"]))
    for s, _ in held[1:]:
        s.close()
    # A head that never completes gets 408 and the connection is closed.
    s = connect(host, port, ca, cert, key)
    s.sendall(b"GET /hie/v1/health HTTP/1.1\r\nHost: local")
    t0 = time.time()
    st, _, _ = read_response(s)
    s.close()
    check("a partial head gets 408 after the header timeout (%.1f s)" % (time.time() - t0),
          st == 408 and time.time() - t0 < 4)
    check("the next good request is served", good_request(args[:6] + ["-"]))
    return failures


def discover_body(family=None, given=None, birth=None, purpose=1, raw_demographics=None):
    """DiscoverRequest { demographics = 1 { names = 1 { family = 2; given = 3 };
    birth_date = 2 }; purpose = 2 }, from bytes so that bad UTF-8 can be sent."""
    if raw_demographics is None:
        name = b""
        if family is not None:
            name += pb_field(2, 2, family)
        if given is not None:
            name += pb_field(3, 2, given)
        d = pb_field(1, 2, name) if name else b""
        if birth is not None:
            d += pb_field(2, 2, birth)
    else:
        d = raw_demographics
    body = pb_field(1, 2, d)
    if purpose:
        body += pb_field(2, 0, purpose)
    return body


def discover(args):
    """Bad discover requests each get a 400 with an Error message; a good one after them
    is answered (the daemon stayed up)."""
    host, port, ca, cert, key, good_family, good_given, good_birth = args
    failures = 0

    def ask(body):
        s = connect(host, port, ca, cert, key)
        s.sendall(post(b"/hie/v1/patients/discover", body))
        status, headers, answer = read_response(s)
        s.close()
        return status, answer

    cases = [
        ("empty demographics", discover_body(raw_demographics=b"")),
        ("no demographics at all", pb_field(2, 0, 1)),
        ("no purpose of use", discover_body(b"Smith", b"Ann", b"1980-01-02", purpose=0)),
        ("an overlong family name", discover_body(b"S" * 5000, b"Ann", b"1980-01-02")),
        ("a family name that is not UTF-8", discover_body(b"Sm\xffth", b"Ann", b"1980-01-02")),
        ("a control character in the given name", discover_body(b"Smith", b"A\x01nn", b"1980-01-02")),
        ("an impossible date", discover_body(b"Smith", b"Ann", b"2023-02-30")),
        ("a birth date in the future", discover_body(b"Smith", b"Ann", b"2091-01-01")),
        ("a date that is not a date", discover_body(b"Smith", b"Ann", b"yesterday")),
        ("nothing to block on (a given name only)", discover_body(None, b"Ann", None)),
        ("a family name alone", discover_body(b"Smith", None, None)),
        ("not protobuf", b"\xff\xff\xff\xff"),
    ]
    for what, body in cases:
        status, answer = ask(body)
        ok = status == 400 and len(answer) > 0
        if not ok:
            failures += 1
        print("%s: %s (%s)" % ("ok" if ok else "FAIL", what, status))
    status, answer = ask(discover_body(good_family.encode(), good_given.encode(),
                                       good_birth.encode()))
    ok = status == 200 and len(answer) > 0
    print("%s: a good request after them is answered (%s)" % ("ok" if ok else "FAIL", status))
    return failures + (0 if ok else 1)


def main():
    mode = sys.argv[1]
    args = sys.argv[2:]
    args[1] = int(args[1])
    if mode == "resume":
        failures = resume(args)
    elif mode == "limits":
        failures = limits(args)
    elif mode == "discover":
        failures = discover(args)
    else:
        failures = battery(args) if mode == "battery" else auth(args)
    print("%s: %d failure(s)" % (mode, failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
