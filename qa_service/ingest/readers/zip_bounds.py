"""Check a zip package (.docx) against the expansion bounds before it is parsed."""

from __future__ import annotations

import io
import zipfile

from qa_service.ingest.readers.limits import (
    MAX_DOCX_PART_BYTES,
    MAX_DOCX_PARTS,
    MAX_DOCX_TOTAL_BYTES,
    OverLimitError,
)

_READ = 1 << 20


def check_package(data: bytes) -> None:
    """Refuse a zip whose members, declared or as inflated, pass the .docx bounds."""
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return  # not a zip: the reader says so in its own words
    with package:
        members = package.infolist()
        if len(members) > MAX_DOCX_PARTS:
            raise OverLimitError(f"it has {len(members):,} parts, over the limit of "
                                 f"{MAX_DOCX_PARTS:,} (MAX_DOCX_PARTS)")
        # What the zip declares, before anything is inflated.
        for info in members:
            if info.file_size > MAX_DOCX_PART_BYTES:
                raise OverLimitError(_part_over(info.filename, info.file_size))
        declared = sum(info.file_size for info in members)
        if declared > MAX_DOCX_TOTAL_BYTES:
            raise OverLimitError(_total_over(declared))
        # Then what the parts really inflate to, read in bounded pieces: a zip can lie
        # about sizes, and this must never hold more than one piece at a time.
        total = 0
        for info in members:
            size = 0
            with package.open(info) as part:
                while chunk := part.read(_READ):
                    size += len(chunk)
                    total += len(chunk)
                    if size > MAX_DOCX_PART_BYTES:
                        raise OverLimitError(_part_over(info.filename, size))
                    if total > MAX_DOCX_TOTAL_BYTES:
                        raise OverLimitError(_total_over(total))


def _part_over(name: str, size: int) -> str:
    return (f"its part {name} inflates to {size:,} bytes or more, over the limit of "
            f"{MAX_DOCX_PART_BYTES:,} (MAX_DOCX_PART_BYTES)")


def _total_over(size: int) -> str:
    return (f"its parts inflate to {size:,} bytes or more, over the limit of "
            f"{MAX_DOCX_TOTAL_BYTES:,} (MAX_DOCX_TOTAL_BYTES)")
