"""Tell from the bytes received so far whether an HTTP/1.x request has arrived whole.

A Scanner follows one request as its bytes arrive and looks at each byte about once: the
search for the end of the headers resumes where it stopped, the headers are parsed once,
and a body is then only counted (or its chunk framing followed from the last chunk).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

# The end of the header block: the first empty line (CRLF, or a bare LF that the parser
# then judges).
_HEAD_END = re.compile(rb"\r?\n\r?\n")
# The longest match of _HEAD_END less one: an end split across two reads starts this far
# back from the end of the bytes already searched, at most.
_HEAD_END_OVERLAP = 3
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
    # A write (POST or PUT under /api/documents) carries files: its own body limit.
    max_upload: int = 0


@dataclass(frozen=True)
class Verdict:
    state: State
    # The headers are in, the body is awaited and the client waits for "100 Continue".
    expects_continue: bool = False


MORE = Verdict(State.MORE)
READY = Verdict(State.READY)
BODY_TOO_LARGE = Verdict(State.BODY_TOO_LARGE)
HEAD_TOO_LARGE = Verdict(State.HEAD_TOO_LARGE)


class Scanner:
    """Judge one request's bytes as they come: wait, hand the request over, or refuse it.

    `scan` is given all the bytes of the request so far each time, the earlier ones
    unchanged; once it has said anything but MORE it says the same again.
    """

    def __init__(self, limits: Limits):
        self.limits = limits
        self.max_body = limits.max_body  # this request's: raised once it is seen a write
        self._done: Verdict | None = None
        self._seen = 0  # bytes searched for the end of the headers
        self._newline = False  # the request line has ended
        self._body = -1  # where the body starts, once the headers are in
        self._expects = False
        self._length = 0  # Content-Length, when the body is not chunked
        self._chunked = False
        self._pos = 0  # chunked: where the next chunk-size or trailer line starts
        self._after_data = False  # chunked: `_pos` is just past a chunk's data and CRLF
        self._total = 0  # chunked: body bytes announced so far
        self._trailers = False  # chunked: the last chunk came; trailer lines follow

    def scan(self, data: bytes | bytearray) -> Verdict:
        """Judge the bytes of the request so far (those of the last call and more)."""
        limits = self.limits
        if len(data) > limits.max_head + 2 * self.max_body + _MAX_LINE:
            # Chunk framing around a body within the limit never takes this much.
            return BODY_TOO_LARGE
        if self._done is not None:
            return self._done
        verdict = self._head(data) if self._body < 0 else None
        if verdict is None:  # the headers are in: follow the body
            verdict = self._chunks(data) if self._chunked else self._counted(data)
        if verdict.state is not State.MORE:
            self._done = verdict
        return verdict

    def _head(self, data: bytes | bytearray) -> Verdict | None:
        """Look for the end of the headers in the new bytes; None once they are in."""
        limits = self.limits
        start = max(0, self._seen - _HEAD_END_OVERLAP)
        if not self._newline:
            self._newline = data.find(b"\n", self._seen) >= 0
        self._seen = len(data)
        end = _HEAD_END.search(data, start)
        if end is None:
            if not self._newline and len(data) > limits.max_line:
                return READY  # the parser refuses a request line this long (414)
            return HEAD_TOO_LARGE if len(data) > limits.max_head else MORE
        if end.start() > limits.max_head:
            return HEAD_TOO_LARGE
        if limits.max_upload and _is_write(data):
            self.max_body = max(limits.max_body, limits.max_upload)
        lengths, codings, self._expects = _framing_headers(bytes(data[:end.start()]))
        self._body = end.end()
        if codings:
            if lengths or codings[-1].rsplit(b",", 1)[-1].strip() != b"chunked":
                return READY  # the parser refuses the mix, or the coding (400, 501)
            self._chunked, self._pos = True, self._body
            return None
        if not lengths:
            return READY
        if len(set(lengths)) != 1 or not lengths[0].isdigit():
            return READY  # the parser refuses it (400)
        self._length = int(lengths[0])
        return BODY_TOO_LARGE if self._length > self.max_body else None

    def _counted(self, data: bytes | bytearray) -> Verdict:
        """Judge a body of Content-Length bytes."""
        if len(data) - self._body >= self._length:
            return READY
        return Verdict(State.MORE, self._expects)

    def _chunks(self, data: bytes | bytearray) -> Verdict:
        """Judge a chunked body from the line where the last call stopped."""
        waiting = Verdict(State.MORE, self._expects and self._body == len(data))
        while True:
            pos = self._pos
            if self._after_data:
                if len(data) < pos:
                    return waiting
                if data[pos - 2:pos] != b"\r\n":
                    return READY  # the parser refuses the chunk (400)
                self._after_data = False
            eol = data.find(b"\n", pos)
            if eol < 0:
                return waiting if len(data) - pos <= _MAX_LINE else READY
            line = bytes(data[pos:eol]).rstrip(b"\r")
            self._pos = eol + 1
            if self._trailers:
                if not line:
                    return READY  # an empty line ends the trailers: the request is whole
                continue
            size = line.split(b";", 1)[0].strip()
            if not _HEX.fullmatch(size):
                return READY  # the parser refuses the chunk size (400)
            self._total += int(size, 16)
            if self._total > self.max_body:
                return BODY_TOO_LARGE
            if size.strip(b"0") == b"":
                self._trailers = True  # the last chunk
            else:
                self._pos += int(size, 16) + 2
                self._after_data = True


_WRITE_RE = re.compile(rb"(?:POST|PUT) /api/documents(?:[/?][^ ]*)? ")


def _is_write(data: bytes | bytearray) -> bool:
    """Say whether the request line is a write of documents (files, not a question)."""
    return _WRITE_RE.match(data) is not None


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
