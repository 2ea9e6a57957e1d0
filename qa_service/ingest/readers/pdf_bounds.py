"""Bound what pdfminer may inflate: a stream, and all of one document's streams."""

from __future__ import annotations

import contextlib
import io
import types
import zlib
from contextvars import ContextVar

from qa_service.ingest.readers.limits import (
    MAX_PDF_DECODED_BYTES,
    MAX_PDF_STREAM_BYTES,
    OverLimitError,
)

# Bytes the document being read may still inflate; None: no PDF is being read.
_left: ContextVar[list[int] | None] = ContextVar("pdf_bytes_left", default=None)


@contextlib.contextmanager
def inflate_budget():
    """Give the PDF read inside it MAX_PDF_DECODED_BYTES to inflate, in all."""
    _install()
    token = _left.set([MAX_PDF_DECODED_BYTES])
    try:
        yield
    finally:
        _left.reset(token)


def _take(n: int) -> None:
    left = _left.get()
    if left is None:
        return
    left[0] -= n
    if left[0] < 0:
        raise OverLimitError(f"its streams inflate to over {MAX_PDF_DECODED_BYTES:,} bytes "
                             "(MAX_PDF_DECODED_BYTES)")


def _cap() -> int:
    left = _left.get()
    return MAX_PDF_STREAM_BYTES if left is None else min(MAX_PDF_STREAM_BYTES, left[0])


def _stream_over() -> OverLimitError:
    return OverLimitError(f"a stream inflates to over {MAX_PDF_STREAM_BYTES:,} bytes "
                          "(MAX_PDF_STREAM_BYTES)")


def decompress(data: bytes) -> bytes:
    """Inflate like zlib.decompress, stopping past the stream and document bounds."""
    cap = _cap()
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, cap + 1)  # never more than one byte past the cap
    if len(out) > cap:
        _take(len(out))  # raises when what ran out is the document's budget
        raise _stream_over()
    if not inflater.eof:
        # zlib.decompress raises on a stream cut short; pdfminer then retries leniently.
        raise zlib.error("incomplete or truncated stream")
    _take(len(out))
    return out


class _Decompressor:
    """A zlib.decompressobj that counts what it inflates against the same bounds."""

    def __init__(self) -> None:
        self._inflater = zlib.decompressobj()
        self._total = 0

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        out = self._inflater.decompress(data, max_length)
        self._total += len(out)
        if self._total > MAX_PDF_STREAM_BYTES:
            raise _stream_over()
        _take(len(out))
        return out

    def flush(self, *args) -> bytes:
        return self._inflater.flush(*args)

    def __getattr__(self, name):
        return getattr(self._inflater, name)


def lzwdecode(data: bytes) -> bytes:
    """Decode LZW like pdfminer, stopping past the stream and document bounds."""
    from pdfminer.lzw import LZWDecoder

    cap, out = _cap(), bytearray()
    for chunk in LZWDecoder(io.BytesIO(data)).run():
        out += chunk
        if len(out) > cap:
            _take(len(out))
            raise _stream_over()
    _take(len(out))
    return bytes(out)


def rldecode(data: bytes) -> bytes:
    """Decode RunLength like pdfminer, refusing first what would pass the bounds."""
    from pdfminer.runlength import rldecode as decode

    # A run of 2 bytes becomes up to 128 (pdfminer builds it as a list of ints, 8 bytes
    # each): the decoded size is counted before, walking the runs without copying.
    size, i = 0, 0
    while i < len(data) and data[i] != 128:
        length = data[i]
        size += length + 1 if length < 128 else 257 - length
        i += length + 2 if length < 128 else 2
    if size > _cap():
        _take(size)
        raise _stream_over()
    _take(size)
    return decode(data)


# What pdfminer.pdftypes sees as `zlib`: the bounded inflaters, the real error class.
_BOUNDED_ZLIB = types.SimpleNamespace(decompress=decompress, decompressobj=_Decompressor,
                                      error=zlib.error, MAX_WBITS=zlib.MAX_WBITS)


def _install() -> None:
    """Make pdfminer decode through the bounded decoders (it has no limit setting of its own)."""
    # pdfminer.six reads FlateDecode with a bare zlib.decompress and offers no setting to
    # bound it (pypdf has ZLIB_MAX_OUTPUT_LENGTH; pdfminer's settings hold only STRICT):
    # its module's `zlib` name is pointed at the bounded one. Only this reader uses it.
    from pdfminer import pdftypes

    if pdftypes.zlib is not _BOUNDED_ZLIB:
        pdftypes.zlib = _BOUNDED_ZLIB
        pdftypes.lzwdecode = lzwdecode
        pdftypes.rldecode = rldecode
