#!/usr/bin/env python3
"""The local API's admission and bad-input battery, raw HTTP over mutual TLS against a running
hiepeerd with a [listen] local.

usage: local_battery.py HOST LOCAL_PORT PEER_PORT CA CLIENT_CERT CLIENT_KEY
                        QUERY_ONLY_CERT QUERY_ONLY_KEY PEER_CERT PEER_KEY ENROLLED_ORG
       local_battery.py publish HOST LOCAL_PORT CA CERT KEY PATIENT_ID CONTENT_FILE OUT_DOCID
         publish a patient (Katherine Smith, 1980-03-04) and a document for it; checks the
         answers and the bad input; writes the stored document id to OUT_DOCID

  CLIENT      a local client with the query and retrieve rights
  QUERY_ONLY  a local client with the query right only
  PEER        an enrolled peer's certificate (refused on the local listener)
  ENROLLED_ORG an organisation enrolled at this node (for a retrieve of an unknown document)
Every check prints one line; the exit status is the number of failures.
"""
import sys

from peer_battery import connect, discover_body, pb_field, post, read_response

fails = 0


def check(what, ok, detail=""):
    global fails
    print("%s %s%s" % ("ok  " if ok else "FAIL", what, (": " + detail) if detail and not ok else ""))
    if not ok:
        fails += 1


def error_message(body):
    """Error { code = 1; message = 2 } → message."""
    i = 0
    while i < len(body):
        key = body[i]
        i += 1
        if key & 7 == 0:
            while body[i] & 0x80:
                i += 1
            i += 1
        elif key & 7 == 2:
            n = 0
            shift = 0
            while True:
                b = body[i]
                i += 1
                n |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            if key >> 3 == 2:
                return body[i:i + n].decode("utf-8", "replace")
            i += n
        else:
            return ""
    return ""


def ask(host, port, ca, cert, key, request):
    try:
        s = connect(host, port, ca, cert, key)
    except OSError as e:  # refused during the handshake (TLS 1.2)
        return None, {"error": str(e)}, b""
    try:
        s.sendall(request)
        return read_response(s)
    except OSError as e:
        return None, {"error": str(e)}, b""
    finally:
        s.close()


def retrieve_body(org, ids, purpose=1):
    body = pb_field(1, 2, org.encode())
    for d in ids:
        body += pb_field(2, 2, d.encode())
    if purpose:
        body += pb_field(3, 0, purpose)
    return body


def main():
    (host, lport, pport, ca, cert, key, qcert, qkey, pcert, pkey, org) = sys.argv[1:12]
    lport, pport = int(lport), int(pport)
    health = b"GET /local/v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n"

    st, _, _ = ask(host, lport, ca, cert, key, health)
    check("a local client: GET /local/v1/health answers 200", st == 200, str(st))
    st, h, _ = ask(host, lport, ca, pcert, pkey, health)
    check("a peer's certificate on the local listener is refused", st is None, str(st))
    st, h, _ = ask(host, pport, ca, cert, key,
                   b"GET /hie/v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
    check("a local client's certificate on the peer listener is refused", st is None, str(st))
    st, _, _ = ask(host, lport, ca, cert, key,
                   post(b"/hie/v1/documents/retrieve", pb_field(1, 2, b"0" * 32) + pb_field(2, 0, 1)))
    check("the peer API is not on the local listener (404)", st == 404, str(st))

    cases = [
        ("a body that is not protobuf", b"\xff\xff\xff\xff", 400),
        ("no purpose of use", discover_body(b"Smith", b"Katherine", b"1980-03-04", purpose=0), 400),
        ("no demographics", pb_field(2, 0, 1), 400),
        ("an impossible birth date", discover_body(b"Smith", b"Katherine", b"1980-02-30"), 400),
        ("nothing to search on (a given name only)", discover_body(None, b"Katherine", None), 400),
        ("a family name that is not UTF-8", discover_body(b"Sm\xffth", b"Katherine", b"1980-03-04"), 400),
    ]
    for what, body, want in cases:
        st, _, b = ask(host, lport, ca, cert, key, post(b"/local/v1/query", body))
        msg = error_message(b) if st != 200 else ""
        check("query with %s: %d with an Error message" % (what, want), st == want and msg,
              "%s %r" % (st, msg))
    st, _, b = ask(host, lport, ca, cert, key,
                   post(b"/local/v1/query", b"x" * (64 * 1024 + 1)))
    check("a query body over 64 KB: 413", st == 413, str(st))

    rcases = [
        ("an organisation id that is not an OID", retrieve_body("1..2", ["0" * 32]), 400),
        ("a document id that is not one", retrieve_body(org, ["XYZ"]), 400),
        ("33 document ids", retrieve_body(org, ["%032x" % i for i in range(33)]), 400),
        ("no purpose", retrieve_body(org, ["0" * 32], purpose=0), 400),
        ("an organisation not enrolled", retrieve_body("1.2.3.4.5", ["0" * 32]), 404),
    ]
    for what, body, want in rcases:
        st, _, b = ask(host, lport, ca, cert, key, post(b"/local/v1/retrieve", body))
        check("retrieve with %s: %d with an Error message" % (what, want),
              st == want and error_message(b), "%s %r" % (st, error_message(b)))
    st, _, b = ask(host, lport, ca, cert, key, post(b"/local/v1/retrieve",
                                                    retrieve_body(org, ["0" * 32])))
    check("retrieve of a document the organisation does not have: 200, listed missing",
          st == 200 and b"0" * 32 in b, "%s %r" % (st, b[:80]))

    st, _, b = ask(host, lport, ca, qcert, qkey, post(b"/local/v1/retrieve",
                                                      retrieve_body(org, ["0" * 32])))
    check("a client without the retrieve right: 403", st == 403 and error_message(b),
          "%s %r" % (st, error_message(b)))
    st, _, _ = ask(host, lport, ca, qcert, qkey, health)
    check("that client may still ask for health", st == 200, str(st))
    sys.exit(fails)


def publish():
    import hashlib
    host, lport, ca, cert, key, pid, content_file, out = sys.argv[2:10]
    lport = int(lport)
    content = open(content_file, "rb").read()
    name = pb_field(2, 2, b"Smith") + pb_field(3, 2, b"Katherine")
    demo = pb_field(1, 2, name) + pb_field(2, 2, b"1980-03-04") + pb_field(3, 0, 2)
    patient = pb_field(1, 2, pid.encode()) + pb_field(2, 2, demo)
    st, _, b = ask(host, lport, ca, cert, key, post(b"/local/v1/patients", patient))
    check("publish a patient: 200 with the Patient", st == 200 and pid.encode() in b,
          "%s %r" % (st, error_message(b) if st != 200 else b[:60]))
    st, _, b = ask(host, lport, ca, cert, key, post(b"/local/v1/patients", pb_field(1, 2, b".x")))
    check("a patient with a bad id: 400", st == 400 and error_message(b), "%s %r" % (st, b[:80]))
    code = pb_field(1, 2, b"18842-5") + pb_field(2, 2, b"2.16.840.1.113883.6.1")
    def entry_for(patient):
        return (pb_field(3, 2, patient) + pb_field(5, 2, code) + pb_field(15, 2, b"text/plain")
                + pb_field(18, 2, b"Published by the EHR"))
    entry = entry_for(pid.encode())
    st, _, b = ask(host, lport, ca, cert, key,
                   post(b"/local/v1/documents", pb_field(1, 2, entry) + pb_field(2, 2, content)))
    sha = hashlib.sha256(content).digest()
    ok = st == 200 and sha in b
    check("publish a document: 200 with the entry (SHA-256 set by the node)", ok,
          "%s %r" % (st, error_message(b) if st != 200 else b[:60]))
    if ok:  # the entry's id: field 1, 32 hex digits
        open(out, "w").write(b[2:34].decode())
    wrong = pb_field(17, 2, b"\0" * 32)
    st, _, b = ask(host, lport, ca, cert, key, post(b"/local/v1/documents",
                   pb_field(1, 2, entry + wrong) + pb_field(2, 2, content)))
    check("a document whose SHA-256 does not match: 400", st == 400 and error_message(b),
          "%s %r" % (st, error_message(b)))
    other = entry_for(b"NOBODY")
    st, _, b = ask(host, lport, ca, cert, key, post(b"/local/v1/documents",
                   pb_field(1, 2, other) + pb_field(2, 2, content)))
    check("a document of an unknown patient: 404", st == 404 and error_message(b),
          "%s %r" % (st, error_message(b)))
    sys.exit(fails)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "publish":
        publish()
    main()
