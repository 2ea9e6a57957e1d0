"""Tell from the bytes received so far whether an HTTP/1.x request has arrived whole."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

# The end of the header block: the first empty line (CRLF, or a bare LF that the parser
# then judges).
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_HEX = re.compile(rb"[0-9A-Fa-f]+")
# A chunk-size line or a trailer line longer than this is not one the parser would take.
_MAX_LINE = 4096


class State(Enum):
    MORE = "more"  # wait for more bytes
    READY = "ready"  # hand over: the request is whole, or the parser will say what is wrong
    BODY_TOO_LARGE = "body_too_large"
    HEAD_TOO_LARGE = "head_too_large"


@dataclass(frozen=True)
class Limits:
    """What one request may be, and how long a client has to send it."""

    max_body: int
    max_head: int
    max_line: int
    timeout: float


@dataclass(frozen=True)
class Verdict:
    state: State
    # The headers are in, the body is awaited and the client waits for "100 Continue".
    expects_continue: bool = False


MORE = Verdict(State.MORE)
READY = Verdict(State.READY)


def scan(data: bytes, limits: Limits) -> Verdict:
    """Judge the bytes of a connection so far: wait, hand the request over, or refuse it."""
    if len(data) > limits.max_head + 2 * limits.max_body + _MAX_LINE:
        # Chunk framing around a body within the limit never takes this much.
        return Verdict(State.BODY_TOO_LARGE)
    end = _HEAD_END.search(data)
    if end is None:
        if b"\n" not in data and len(data) > limits.max_line:
            return READY  # the parser refuses a request line this long (414)
        return Verdict(State.HEAD_TOO_LARGE) if len(data) > limits.max_head else MORE
    if end.start() > limits.max_head:
        return Verdict(State.HEAD_TOO_LARGE)
    lengths, codings, expects = _framing_headers(data[:end.start()])
    if codings:
        if lengths or codings[-1].rsplit(b",", 1)[-1].strip() != b"chunked":
            return READY  # the parser refuses the mix, or the coding (400, 501)
        return _chunked(data, end.end(), limits, expects)
    if not lengths:
        return READY
    if len(set(lengths)) != 1 or not lengths[0].isdigit():
        return READY  # the parser refuses it (400)
    length = int(lengths[0])
    if length > limits.max_body:
        return Verdict(State.BODY_TOO_LARGE)
    if len(data) - end.end() >= length:
        return READY
    return Verdict(State.MORE, expects)


def _framing_headers(head: bytes) -> tuple[list[bytes], list[bytes], bool]:
    """Return the Content-Length values, the Transfer-Encoding values and Expect: 100-continue."""
    lengths, codings, expects = [], [], False
    for line in head.split(b"\n")[1:]:
        name, colon, value = line.partition(b":")
        if not colon:
            continue
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            lengths.append(value)
        elif name == b"transfer-encoding":
            codings.append(value)
        elif name == b"expect":
            expects = value == b"100-continue"
    return lengths, codings, expects


def _chunked(data: bytes, pos: int, limits: Limits, expects: bool) -> Verdict:
    """Judge a chunked body that starts at `pos`."""
    waiting = Verdict(State.MORE, expects and pos == len(data))
    total = 0
    while True:
        eol = data.find(b"\n", pos)
        if eol < 0:
            return waiting if len(data) - pos <= _MAX_LINE else READY
        size = data[pos:eol].rstrip(b"\r").split(b";", 1)[0].strip()
        if not _HEX.fullmatch(size):
            return READY  # the parser refuses the chunk size (400)
        total += int(size, 16)
        if total > limits.max_body:
            return Verdict(State.BODY_TOO_LARGE)
        pos = eol + 1
        if size.strip(b"0") == b"":
            return _trailers(data, pos, waiting)
        pos += int(size, 16) + 2
        if len(data) < pos:
            return waiting
        if data[pos - 2:pos] != b"\r\n":
            return READY  # the parser refuses the chunk (400)


def _trailers(data: bytes, pos: int, waiting: Verdict) -> Verdict:
    """Judge the trailer section after the last chunk: whole once an empty line ends it."""
    while True:
        eol = data.find(b"\n", pos)
        if eol < 0:
            return waiting if len(data) - pos <= _MAX_LINE else READY
        if not data[pos:eol].rstrip(b"\r"):
            return READY
        pos = eol + 1
