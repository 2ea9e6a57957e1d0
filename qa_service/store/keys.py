"""Stored word keys: each passage's content words and sentences, each document's title
and lead, as a build wrote them so that a question need not stem candidates' text.

Indexes built before a table or column was kept, or whose keys were made another way
(another `KEY_SCHEME`), have what is missing made from the text or read as before: the
ranking is the same either way.
"""

from __future__ import annotations

import numpy as np

from qa_service.text import KEY_SCHEME, content_keys

# Passages whose word keys are remembered per open file (about 20 KB each for a 200-word
# passage): a small corpus's all, a large one's first asked.
KEYS_CACHE = 2048

# Stored word keys: the content words' character offsets, and their keys space-separated;
# sentence spans as (start, end) pairs of offsets.
OFFSET_TYPE = "<u4"
WordKeys = tuple[list[int] | tuple[int, ...], list[str] | tuple[str, ...]]
Spans = list[tuple[int, int]]


def pack_offsets(offsets) -> bytes:
    """Return offsets as a build stores them."""
    return np.asarray(offsets, dtype=OFFSET_TYPE).tobytes()


def document_row(doc_id: str, title: str, lead: str | None) -> tuple[str, str, str]:
    """Return a document's stored keys: its title's, and those of its first passage."""
    lead_keys = dict.fromkeys(content_keys(lead)[1]) if lead is not None else ()
    return doc_id, " ".join(content_keys(title)[1]), " ".join(lead_keys)


class StoredKeys:
    """The key reads of a passage store (mixed into PassageStore, which runs `_query`)."""

    def _detect_keys(self) -> None:
        # Keys stored by a build that made them as this version does (older builds: none).
        self.has_keys = bool(self._query(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'")) and bool(
            self._query("SELECT 1 FROM meta WHERE name = 'key_scheme' AND value = ?",
                        (KEY_SCHEME,)))
        # Sentence spans beside the keys, and documents' title and lead keys (later builds).
        self.has_spans = self.has_keys and any(
            r[1] == "spans" for r in self._query("PRAGMA table_info(passage_keys)"))
        self.has_document_keys = self.has_keys and bool(self._query(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'document_keys'"))
        self._keys: dict[int, WordKeys] = {}
        self._spans: dict[int, Spans] = {}
        self._key_sets: dict[int, frozenset[str]] = {}

    def word_keys(self, rows: list[int]) -> dict[int, WordKeys]:
        """Return the offsets and word keys of the content words of each given passage.

        A build stores them (stemming at question time cost more than the rest of the
        ranking on 10k passages); an index without them has them made from the text.
        """
        cache = self._keys
        found = {row: cache[row] for row in rows if row in cache}
        missing = [row for row in rows if row not in found]
        if missing:
            found.update(self._read_keys(missing)[0])
        return found

    def _read_keys(self, rows: list[int]) -> tuple[dict[int, WordKeys], dict[int, Spans]]:
        """Read the keys of passages, and their sentence spans where stored (else made from
        the text, without spans); remembered while the cache has room."""
        marks = ",".join("?" * len(rows))
        keys: dict[int, WordKeys] = {}
        spans: dict[int, Spans] = {}
        if self.has_keys:
            with_spans = self.has_spans
            for r in self._query(f"SELECT rowid, offsets, keys{', spans' if with_spans else ''}"
                                 f" FROM passage_keys WHERE rowid IN ({marks})", rows):
                keys[r[0]] = (np.frombuffer(r[1], dtype=OFFSET_TYPE).tolist(), r[2].split())
                if with_spans:
                    ends = np.frombuffer(r[3], dtype=OFFSET_TYPE).tolist()
                    spans[r[0]] = list(zip(ends[::2], ends[1::2]))
        else:
            keys = {r[0]: content_keys(r[1]) for r in self._query(
                f"SELECT rowid, text FROM passages WHERE rowid IN ({marks})", rows)}
        if len(self._keys) + len(keys) <= KEYS_CACHE:
            self._keys.update(keys)
            self._spans.update(spans)
        return keys, spans

    def key_sets(self, rows: list[int]) -> dict[int, frozenset[str]]:
        """Return the set of word keys of each given passage (cached like the keys)."""
        cache = self._key_sets
        missing = [row for row in rows if row not in cache]
        made = {row: frozenset(keys) for row, (_, keys) in self.word_keys(missing).items()}
        if len(cache) + len(made) <= KEYS_CACHE:
            cache.update(made)
        return {row: cache[row] if row in cache else made[row] for row in rows}

    def sentence_spans(self, rows: list[int], firsts: dict[int, int] | None = None
                       ) -> list[tuple[int, int, int, int]]:
        """Return (sentence row, passage row, start, end) of the given passages' sentences,
        in order; `firsts`, each passage's first sentence row, lets stored spans serve."""
        if not rows:
            return []
        if self.has_keys and self.has_spans and firsts is not None:
            known = {row: self._spans[row] for row in rows if row in self._spans}
            missing = [row for row in rows if row not in known]
            if missing:
                known.update(self._read_keys(missing)[1])
            return [(firsts[row] + i, row, start, end) for row in sorted(rows)
                    for i, (start, end) in enumerate(known[row])]
        found = self._query(
            "SELECT rowid, passage, start, end FROM sentences "
            f"WHERE passage IN ({','.join('?' * len(rows))}) ORDER BY rowid", list(rows),
        )
        return [(r[0], r[1], r[2], r[3]) for r in found]

    def document_keys(self, doc_ids: list[str]) -> dict[str, tuple[list[str], list[str]]]:
        """Return each given document's title keys and first passage's keys (stored by
        later builds; empty otherwise)."""
        if not doc_ids or not (self.has_keys and self.has_document_keys):
            return {}
        marks = ",".join("?" * len(doc_ids))
        return {r[0]: (r[1].split(), r[2].split()) for r in self._query(
            f"SELECT doc_id, title, lead FROM document_keys WHERE doc_id IN ({marks})",
            list(doc_ids))}
