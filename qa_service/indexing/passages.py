"""The passage half of a build: read and ingest the corpus, reuse unchanged documents, and
plan which passages and sentences need embedding."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from qa_service.config import Settings
from qa_service.encoders import Encoder
from qa_service.errors import CorpusError
from qa_service.indexing.engines import Engine, LocalEngine
from qa_service.indexing.snapshot import same_stat
from qa_service.indexing.types import write_types
from qa_service.indexing.writer import PassageWriter
from qa_service.ingest.boilerplate import corpus_repeated_lines, keyed_hash
from qa_service.ingest.readers import Skips, reading_total
from qa_service.ingest.readers.corpus import corpus_metadata, metadata_json, walk_corpus
from qa_service.ingest.readers.sandbox import ReadLimits
from qa_service.ingest.story import add_up
from qa_service.progress import Progress
from qa_service.store import Index


@dataclass
class Plan:
    """Where each row of the new index comes from: an old row (reused) or new text."""

    old_passage_rows: list[int] = field(default_factory=list)  # -1: embed
    old_sentence_rows: list[int] = field(default_factory=list)
    new_passages: list[str] = field(default_factory=list)
    new_spans: list[list[tuple[int, int]]] = field(default_factory=list)  # in new_passages
    reused_documents: int = 0
    # What cleaning removed from the documents ingested (not reused), by rule:
    # [characters, sentences, documents].
    cleaning: dict = field(default_factory=dict)


def _unchanged(listed, previous: Index | None, known: dict[str, str],
               stored: dict) -> dict[str, tuple[str, str]]:
    """Return relpath -> (sha256, metadata JSON) of the files the build before indexed
    whose size and mtime are still those it recorded (git's test, racy ones excepted)."""
    if previous is None or not stored or not isinstance(listed, dict):
        return {}
    before = previous.manifest.corpus
    files, hashed = before.get("files") or {}, before.get("hashed_ns")
    if hashed is None:
        return {}
    found = {}
    for rel, entry in listed.items():
        old = files.get(rel)
        if (old and rel in known and rel in stored and old[2]
                and same_stat(old, entry[0], entry[1], hashed)):
            found[rel] = (old[2], stored[rel][3])
    return found


def write_passages(path: Path, encoder: Encoder, settings: Settings,
                   previous: Index | None, skips: Skips | None = None,
                   hashes: dict[str, list] | None = None, progress: bool = False,
                   listed: Iterable[str] | None = None, engine: Engine | None = None
                   ) -> tuple[dict, Plan]:
    """Write the corpus's passages into the SQLite file `path`; return counts and the plan.

    Documents whose content hash equals the one `previous` recorded keep their stored
    passages (and, by the plan, their vectors and word counts). Files left out, and
    documents with no text after cleaning, are counted in `skips`; `hashes` gets each
    file read's size, mtime and the hash of the bytes read (see ingest.read_corpus).
    `progress` shows on stderr how many files (or corpus.jsonl lines) have been read, out
    of the corpus's files in `listed` (a snapshot's paths) or found now. `engine` reads,
    cleans and chunks the documents (default: this process and its pool).
    """
    skips = Skips() if skips is None else skips
    engine = engine or LocalEngine(encoder, settings.build.batch_size, progress)
    writer = PassageWriter(path)
    plan = Plan()
    known = previous.passages.content_hashes() if previous is not None else {}
    if previous is not None:
        writer.seed_vocabulary(previous.passages.vocabulary_counts())
    max_tokens = min(settings.build.max_tokens, encoder.max_tokens)
    embed_title = settings.build.embed_title
    reused = set()

    # Files as the build before read them (same size and mtime, not racily so) are not
    # read again, nor counted for repeated lines: what it stored stands for them.
    stored = previous.passages.line_rows() if previous is not None else {}
    unchanged = _unchanged(listed, previous, known, stored)

    def take(doc_id: str, digest: str, lines, result) -> None:
        if result is None:  # unchanged since the live version: its rows are reused
            reused.add(doc_id)
            copied = writer.copy_document(previous.passages.path, doc_id, digest) \
                if stored else None
            if copied is None:
                doc, passages, rows = previous.passages.stored_document(doc_id)
                writer.add(doc, passages, digest, counted=True, lines=lines)
                copied = rows, previous.passages.sentence_rows(rows) if rows else []
            plan.old_passage_rows += copied[0]
            plan.old_sentence_rows += copied[1]
            plan.reused_documents += 1
            return
        doc, passages = result
        add_up(plan.cleaning, doc.cleaning)
        if not passages:
            skips.add("no text after cleaning", doc_id,
                      "no text is left after cleaning (only page furniture)")
            return
        plan.old_passage_rows += [-1] * len(passages)
        # The title, when embedded, goes before the text: the sentences move with it.
        prefix = f"{doc.title}. " if embed_title and doc.title else ""
        for p in passages:
            plan.new_passages.append(prefix + p.text)
            plan.old_sentence_rows += [-1] * len(p.sentences)
            plan.new_spans.append([(len(prefix) + s, len(prefix) + e) for s, e in p.sentences])
        writer.add(doc, passages, digest, lines=lines)

    limits = ReadLimits.from_settings(settings.build)
    walked = walk_corpus(settings.corpus)  # once, for both passes
    boilerplate = corpus_repeated_lines(settings.corpus, settings.build.max_file_bytes, limits,
                                        unchanged, {d: v[1:3] for d, v in stored.items()},
                                        walked, engine.read, lambda raw: engine.facts(raw)[1:])
    # Reused unread only while the lines repeated across its source are as they were.
    unchanged = {rel: v for rel, v in unchanged.items() if known[rel] == keyed_hash(
        stored[rel][0], sorted(stored[rel][2].intersection(boilerplate)))}
    tables = corpus_metadata(settings.corpus)
    try:
        # An encoder's token_counter pickles, for worker processes; count_tokens may not.
        counter = getattr(encoder, "token_counter", None)
        # Counted from here, not before the boilerplate pass: time left is read off the rate.
        total, unit = reading_total(settings.corpus, listed) if progress else (0, "files")
        # A file counts when read; cleaning lags it by at most the ingest window, and the
        # last line comes once every document is cleaned and written.
        with Progress(total, "Reading", unit) as reading, \
                engine.ingest(counter or encoder.count_tokens, max_tokens,
                              settings.build.min_chars, counter is not None,
                              boilerplate) as ingest:
            for raw in engine.read(settings.corpus, settings.build.max_file_bytes, skips,
                                   hashes=hashes, passed=reading.update, limits=limits,
                                   unchanged=unchanged, walked=walked):
                if raw.reused:
                    item, new = (raw.doc_id, known[raw.doc_id], None), False
                else:
                    content, source, keys = engine.facts(raw)
                    # ingest.boilerplate.document_hash, from the keys instead of the text.
                    digest = keyed_hash(content, sorted(keys.intersection(boilerplate)))
                    lines = (content, source, keys, metadata_json(tables.get(raw.doc_id)))
                    item, new = (raw.doc_id, digest, lines), known.get(raw.doc_id) != digest
                for queued, result in ingest.put(item, raw if new else None):
                    take(*queued, result)
            for queued, result in ingest.drain():
                take(*queued, result)
        for doc_id in known.keys() - reused:  # changed or deleted: out of the word counts
            for p in previous.passages.stored_document(doc_id)[1]:
                writer.uncount(p.text)
        if settings.ranking.answer_types:  # spaCy's typed spans (off by default)
            write_types(writer, plan.old_passage_rows, previous, progress)
    finally:
        writer.close()
    if writer.passages == 0:
        raise CorpusError(f"no text to index in {settings.corpus}: no file in it gave a "
                          "passage; the index was left as it was")
    return {"documents": writer.documents, "passages": writer.passages,
            "sentences": writer.sentences}, plan
