"""The index manifest: written last by a build, read first on load."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from qa_service.errors import IndexCorrupt
from qa_service.store.names import named

FORMAT = 1
MANIFEST = "manifest.json"
# Keys that older builds wrote and nothing reads any more.
_RETIRED = ("name",)


@dataclass
class Manifest:
    """What an index holds and how it was made."""

    format: int
    model: dict  # name, dimension, max_tokens, backend
    corpus: dict  # path, fingerprint, files: {relpath: [size, mtime_ns, sha256]}
    chunking: dict  # max_tokens, min_chars, embed_title, ingest_version
    counts: dict  # documents, passages, sentences
    vectors: dict  # type, metric, parameters
    files: dict  # file name -> size in bytes
    versions: dict
    built_at: str
    build_seconds: float
    extra: dict = field(default_factory=dict)

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = Path(folder) / MANIFEST
        name = named(path)
        try:
            data = json.loads(path.read_text("utf-8"))
            if data.get("format") != FORMAT:
                raise IndexCorrupt(
                    f"{name}: index format {data.get('format')!r} is not {FORMAT}; rebuild it"
                )
            for key in _RETIRED:
                data.pop(key, None)
            return cls(**data)
        except FileNotFoundError:
            raise IndexCorrupt(f"{name} is missing: the index is incomplete; rebuild it") from None
        except (ValueError, TypeError, UnicodeDecodeError, AttributeError) as exc:
            raise IndexCorrupt(f"{name} is unreadable ({exc}); rebuild the index") from None

    def to_json(self) -> str:
        """Return the manifest as the JSON text a build writes."""
        return json.dumps({f.name: getattr(self, f.name) for f in fields(self)}, indent=2,
                          ensure_ascii=False) + "\n"
