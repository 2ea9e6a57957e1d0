"""Write hostile corpus files (bombs small on disk) for tests and benchmarks/hostile_ingest."""

from __future__ import annotations

import mmap
import time
import zipfile
import zlib
from pathlib import Path

from qa_service.ingest.readers.base import Extracted, Reader

_CHUNK = 1 << 20


def yaml_alias_bomb(path: Path, depth: int = 9, width: int = 9) -> Path:
    """Write a Markdown file whose front matter nests YAML aliases `depth` levels deep."""
    lines = ["---", "title: Laughs", "a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, depth):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    lines += ["---", "", "The harbour opened in spring."]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def many_fields(path: Path, fields: int = 200_000, big_value_bytes: int = 2_000_000) -> Path:
    """Write a Markdown file whose front matter has `fields` fields and one huge value."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("---\ntitle: Crowded\n")
        fh.write("blob: " + "x" * big_value_bytes + "\n")
        for i in range(fields):
            fh.write(f"field{i:06d}: value {i}\n")
        fh.write("---\n\nThe lighthouse keeper counted the ships each night.\n")
    return path


def pdf_flate_bomb(path: Path, inflated: int = 1 << 30) -> Path:
    """Write a one-page PDF whose content stream inflates to `inflated` bytes of spaces."""
    packer = zlib.compressobj(9)
    parts = []
    space = b" " * _CHUNK
    for _ in range(inflated // _CHUNK):
        parts.append(packer.compress(space))
    parts.append(packer.compress(b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET"))
    parts.append(packer.flush())
    stream = b"".join(parts)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>')


def docx_xml_bomb(path: Path, xml_bytes: int = 300 * _CHUNK) -> Path:
    """Write a .docx whose word/document.xml is about `xml_bytes` of repeated paragraphs."""
    paragraph = b"<w:p><w:r><w:t>lol lol lol</w:t></w:r></w:p>"
    block = paragraph * (_CHUNK // len(paragraph))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        with zf.open("word/document.xml", "w") as fh:
            fh.write(f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{_W}">'
                     '<w:body>'.encode())
            for _ in range(xml_bytes // len(block)):
                fh.write(block)
            fh.write(b"</w:body></w:document>")
    return path


def docx_lying_sizes(path: Path, declared: int = 1000) -> Path:
    """Rewrite a .docx's word/document.xml sizes to claim `declared` bytes (a zip that lies)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        local = zf.getinfo("word/document.xml").header_offset
    central = data.rfind(b"PK\x01\x02", 0, data.rfind(b"word/document.xml"))
    # The uncompressed size: 22 bytes into a local header, 24 into a central entry.
    for offset in (local + 22, central + 24):
        data[offset:offset + 4] = declared.to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


class SlowReader(Reader):
    """A reader that never finishes (a runaway no bound foresaw): files named *.slow."""

    kind = "markdown"
    suffixes = (".slow",)

    def read(self, data: bytes, name: str) -> Extracted:
        """Sleep far past any read timeout, then give the text."""
        time.sleep(60)
        return Extracted(data.decode("utf-8"))


class GreedyReader(Reader):
    """A reader that asks for 8 GiB (untouched, so harmless where nothing limits it)."""

    kind = "markdown"
    suffixes = (".greedy",)

    def read(self, data: bytes, name: str) -> Extracted:
        """Map 8 GiB of address space, then give the text."""
        with mmap.mmap(-1, 8 << 30):
            return Extracted(data.decode("utf-8"))


def html_many_elements(path: Path, elements: int = 1_200_000) -> Path:
    """Write a page of `elements` bold words (9.6 MB at 1.2 million)."""
    path.write_text("<html><body>" + "<b>x</b>" * elements + "</body></html>", "utf-8")
    return path


def html_many_attributes(path: Path, attributes: int = 300_000) -> Path:
    """Write a page with one element of `attributes` attributes (3.5 MB at 300,000)."""
    attrs = " ".join(f'a{i}="x"' for i in range(attributes))
    path.write_text(f"<html><body><p {attrs}>Hi.</p></body></html>", "utf-8")
    return path
