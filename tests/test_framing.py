"""framing.Scanner: a request judged as its bytes arrive, each byte looked at about once."""

from __future__ import annotations

import pytest

from qa_service.http import framing
from qa_service.http.framing import Limits, Scanner, State

LIMITS = Limits(max_body=300, max_head=200, max_line=120, timeout=1.0)
POST = b"POST /api/ask HTTP/1.1\r\nHost: t\r\n"
CHUNKED = POST + b"Transfer-Encoding: chunked\r\n"

REQUESTS = {
    "no body": (b"GET /api/health HTTP/1.1\r\nHost: t\r\n\r\n", State.READY),
    "bare line feeds": (b"GET /api/health HTTP/1.1\nHost: t\n\n", State.READY),
    "Content-Length": (POST + b"Content-Length: 5\r\n\r\nhello", State.READY),
    "Content-Length, pipelined": (POST + b"Content-Length: 2\r\n\r\n{}GET / HTTP/1.1\r\n",
                                  State.READY),
    "Content-Length over the limit": (POST + b"Content-Length: 301\r\n\r\n", State.BODY_TOO_LARGE),
    "Content-Length not a number": (POST + b"Content-Length: x\r\n\r\n", State.READY),
    "chunked": (CHUNKED + b"\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\n\r\n", State.READY),
    "chunked with trailers": (CHUNKED + b"\r\n2\r\n{}\r\n0\r\nX-Sum: 1\r\n\r\n", State.READY),
    "chunked over the limit": (CHUNKED + b"\r\n" + (b"96\r\n" + b"a" * 150 + b"\r\n") * 3,
                               State.BODY_TOO_LARGE),
    "chunk without its CRLF": (CHUNKED + b"\r\n2\r\n{}XX0\r\n\r\n", State.READY),
    "chunk size not hex": (CHUNKED + b"\r\nzz\r\n", State.READY),
    "headers over the limit": (POST + b"X-Big: " + b"a" * 200 + b"\r\n\r\n",
                               State.HEAD_TOO_LARGE),
    "request line over the limit": (b"GET /" + b"q" * 130, State.READY),
    "Expect: 100-continue": (POST + b"Expect: 100-continue\r\nContent-Length: 2\r\n\r\n{}",
                             State.READY),
    "chunked, Expect: 100-continue": (
        CHUNKED + b"Expect: 100-continue\r\n\r\n2\r\n{}\r\n0\r\n\r\n", State.READY),
}


@pytest.mark.parametrize("step", [1, 2, 3, 7, 64])
@pytest.mark.parametrize("case", REQUESTS)
def test_a_request_fed_in_pieces_is_judged_as_each_prefix_is_judged_whole(case, step):
    data, final = REQUESTS[case]
    scanner, inbox = Scanner(LIMITS), bytearray()
    for end in range(step, len(data) + step, step):
        inbox += data[len(inbox):end]
        verdict = scanner.scan(inbox)
        assert verdict == Scanner(LIMITS).scan(bytes(inbox)), (case, len(inbox))
        if verdict.state is not State.MORE:
            break
    assert verdict.state is final


def test_100_continue_is_asked_for_only_before_the_body():
    data = POST + b"Expect: 100-continue\r\nContent-Length: 4\r\n\r\n"
    scanner = Scanner(LIMITS)
    assert scanner.scan(data).expects_continue
    chunked = Scanner(LIMITS)
    head = CHUNKED + b"Expect: 100-continue\r\n\r\n"
    assert chunked.scan(head).expects_continue
    assert not chunked.scan(head + b"2\r\n").expects_continue


def test_the_headers_are_parsed_once_however_slowly_the_body_comes(monkeypatch):
    calls = []
    parse = framing._framing_headers
    monkeypatch.setattr(framing, "_framing_headers", lambda head: calls.append(1) or parse(head))
    limits = Limits(max_body=256 * 1024, max_head=64 * 1024, max_line=8190, timeout=1.0)
    for head, body in ((POST + b"Content-Length: %d\r\n\r\n" % limits.max_body,
                        b"a" * limits.max_body),
                       (CHUNKED + b"\r\n", (b"400\r\n" + b"a" * 1024 + b"\r\n") * 256
                        + b"0\r\n\r\n")):
        calls.clear()
        scanner, inbox = Scanner(limits), bytearray(head)
        assert scanner.scan(inbox).state is State.MORE
        for start in range(0, len(body), 512):
            inbox += body[start:start + 512]
            verdict = scanner.scan(inbox)
        assert verdict.state is State.READY and calls == [1]


def test_a_judged_request_keeps_its_verdict():
    scanner = Scanner(LIMITS)
    data = POST + b"Content-Length: 301\r\n\r\n"
    assert scanner.scan(data).state is State.BODY_TOO_LARGE
    assert scanner.scan(data + b"more").state is State.BODY_TOO_LARGE


@pytest.mark.parametrize("line, state", [
    (b"POST /api/documents HTTP/1.1", State.READY),
    (b"POST /api/documents?wait=5 HTTP/1.1", State.READY),
    (b"PUT /api/documents/a/b.txt HTTP/1.1", State.READY),
    (b"POST /api/ask HTTP/1.1", State.BODY_TOO_LARGE),
    (b"POST /api/documentsX HTTP/1.1", State.BODY_TOO_LARGE),
    (b"GET /api/documents HTTP/1.1", State.BODY_TOO_LARGE),
])
def test_only_writes_of_documents_may_carry_an_upload_sized_body(line, state):
    limits = Limits(max_body=300, max_head=200, max_line=120, timeout=1.0, max_upload=5000)
    data = line + b"\r\nHost: t\r\nContent-Length: 4000\r\n\r\n" + b"a" * 4000
    assert Scanner(limits).scan(data).state is state
    over = line + b"\r\nHost: t\r\nContent-Length: 5001\r\n\r\n"
    assert Scanner(limits).scan(over).state is State.BODY_TOO_LARGE
