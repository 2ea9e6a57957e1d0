"""Settings, grouped by concern: defaults, then `QA_*` environment variables, then overrides.

Every setting has one flat key, the name of its `QA_<KEY>` variable and of its override
(`Settings.from_env(top_k=3)`, `settings.with_(model="hash:64")`, a test's app config);
code reads it through its group (`settings.ranking.top_k`, `settings.model.name`).
"""

from __future__ import annotations

import os
from dataclasses import Field, dataclass, field, fields, replace
from pathlib import Path

from qa_service.errors import InvalidInput

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# The values a strategy setting or option takes; each is implemented in one place:
# backends in encoders.backends, build engines in indexing.engines.
BACKENDS = ("onnx", "int8", "torch", "bf16")
BACKEND_CHOICES = ("auto", *BACKENDS)
ENGINES = ("local", "ray")


def _setting(default, key: str | None = None):
    """Declare a setting whose flat key differs from its field name."""
    return field(default=default, metadata={"key": key} if key else {})


@dataclass(frozen=True)
class ModelSettings:
    """Which embedding model, where and how it runs."""

    name: str = _setting(DEFAULT_MODEL, key="model")
    device: str = "cpu"
    # How a build runs the model: "onnx" (the model exported once to ONNX and run by
    # onnxruntime: the same vectors as torch, a fraction of its per-call overhead and
    # memory), "int8" (that export with 8-bit weights: faster, vectors within 0.99
    # cosine), "torch" (sentence-transformers' model in fp32), "bf16" (that model with
    # bfloat16 matrix products: vectors within 1e-4 cosine of fp32, twice as fast as onnx
    # where the processor multiplies bf16 natively, e.g. AMX, and on GPUs), or "auto":
    # bf16 on a GPU or a CPU with AMX, else int8 (docs/performance.md).
    backend: str = "auto"
    # How a server encodes questions (empty: as `backend`). int8 halves the cost of a
    # question on the CPU, within 0.2 points of fp32 questions on every evaluation set;
    # each question is encoded alone, so its vector depends on it only.
    query_backend: str = "int8"
    # Threads for one encoding call; 0: one per request when serving (requests run side
    # by side), every core when building.
    encode_threads: int = 0
    # Where exported ONNX models are kept between runs (made from the local weights).
    cache: Path = _setting(Path("~/.cache/qa-service"), key="model_cache")
    # Question vectors remembered by the server: a repeated question skips the model.
    query_cache: int = 1024


@dataclass(frozen=True)
class BuildSettings:
    """How a corpus becomes an index."""

    # Chunking: passages longer than the model window are split at sentences;
    # fragments shorter than min_chars are merged with a neighbour.
    max_tokens: int = 256
    min_chars: int = 60
    # Embed each passage after its document's title, so that a passage that never names
    # its subject ("It was founded in 1852") is still found by it.
    embed_title: bool = False
    # Sentence vectors: "pooled" from their passage's own pass (one pass for both, and
    # passages found better by them on SQuAD and news; encoders/pooling.py) or "separate"
    # (each sentence embedded again alone, as before). The shipped ranker learned on
    # pooled ones; an index of the other kind is rebuilt whole.
    sentence_vectors: str = "pooled"
    # Above this many passages the vector index is approximate (IVF) instead of exact:
    # exact search costs ~0.4 ms per 1k passages a query on 2 cores, IVF stays under 1 ms
    # with recall@10 >= 0.99 (benchmarks/growth.py, docs/scaling.md).
    exact_limit: int = 20_000
    batch_size: int = 64
    # `build --engine ray`: embedding actors (0: one per CPU of the Ray cluster).
    ray_actors: int = 0
    # Corpus files larger than this are skipped with a warning: a stray dump or archive
    # would otherwise stall a build and flood the index with one document's fragments.
    max_file_bytes: int = 10 * 1024 * 1024
    # Parsing one Markdown, PDF or Word file runs in a child process (readers/sandbox.py)
    # that may take this long (seconds) and this much address space (MB); a file past
    # either is skipped ("over a limit") and the build goes on. 0: no limit (both 0: read
    # in the build's own process). pdfminer reads ~30 pages of plain text a second on a
    # 2-core EPYC (benchmarks/read_sandbox.py): 120 s leaves a 1,500-page book of dense
    # pages room; 1 GB is 4x the most a PDF's bounded streams may inflate to
    # (readers/limits.py), and the child itself starts at ~30 MB.
    read_timeout: float = 120.0
    read_memory_mb: int = 1024


@dataclass(frozen=True)
class RankingSettings:
    """Every number that decides what a question gets back, and in which order.

    The weights and thresholds were measured as docs/evaluation.md and
    docs/architecture.md describe; the spelling-variant rules, which the build records
    too, are those of `qa_service.text.variants`.
    """

    top_k: int = 5
    # Candidates taken from each of dense and lexical search, then fused (about 40 after
    # their union). 25 rather than 50: on 10k passages a question's signals cost in
    # proportion to its candidates, and on the training collections' held-out folds
    # rankers retrained on 25, 30 and 50 score within a point of each other, 25 no lower
    # (docs/evaluation.md). The shipped ranker records the number it learned on.
    candidates: int = 25
    # How the signals (qa_service.search.signals) become one score: "learned" (the
    # LambdaMART ranker `qa-service train-ranker` fits on training collections; its file
    # is `ranker`, empty for the one shipped), "weighted" (a hand-set weighted sum of the
    # signals scaled over the candidates; each signal's weight is set beside it, and
    # `weights` overrides them: "dense=0.3,title=0.1") or "rrf".
    fusion: str = "learned"
    ranker: str = ""
    weights: str = ""
    # Reciprocal-rank fusion (fusion "rrf"): 1 / (rrf_k + rank), Cormack et al. 2009.
    rrf_k: int = 60
    # BM25 column weights: a title match counts less than a match in the passage itself.
    bm25_title: float = 0.5
    bm25_text: float = 1.0
    # Weight of earlier questions, most recent first: a follow-up borrows the topic of the
    # questions before it, and older turns fade out. The question itself weighs 1, so a
    # change of topic still wins over the conversation behind it...
    history_weights: tuple[float, ...] = (0.5, 0.25, 0.125)
    # ...unless the question points back ("how many died there?") or names almost
    # nothing itself: then its subject is in the history, which counts this much more.
    referring_boost: float = 2.0
    # How much the history counts for a question that names its own subject (a multiple
    # of `history_weights`). 0: it is searched alone, since the earlier questions' words
    # pull it off its point ("How many were injured in Aktobe?" after questions on deaths
    # marked a death toll); 1: the history counts as for any question (docs/evaluation.md).
    self_contained_history: float = 0.0
    # A corpus word is taken for a name (its other spellings searched, and it counts for
    # the names signal) when at least this share of its uses not opening a sentence are
    # capitalised.
    name_share: float = 0.8
    # Spelling variants of a name are at most this many edits apart (Tokayev/Toqaev).
    variant_edits: int = 2
    # The answering sentence is the one with the best cosine plus this much of the share
    # of the question's term weight it holds: of two sentences on the topic, the one
    # holding the question's rarer words ("injured" rather than "Aktobe") is the answer.
    highlight_terms: float = 0.6
    # `answerable` is P(the documents answer) >= answer_threshold: the ranker file's
    # answerability model, fitted on training collections with balanced classes.
    # `confidence`, P(the first passage answers), is apart. 0.2, not the even point 0.5:
    # near misses (a question whose answer was taken out, the rest of its article or week
    # kept) are hard to tell from answered questions, and at 0.5 nearly half of the news
    # collection's own questions were declined. 0.2 is the highest threshold of the
    # held-out sweep that declines fewer than 1 in 10 of every training collection's own
    # questions (news 8.0 %, SciFact 6.6 %, SQuAD about 2 %), while declining 33 % of news
    # near misses and 58-95 % of other collections' questions (docs/evaluation.md).
    answer_threshold: float = 0.2
    # A question that names something (a word it or the corpus capitalises) of which no
    # passage holds any name is declined, its confidence 0: "How many died in the Paris
    # attacks?" asked of reports on Aktobe. The models learn this only weakly, as it is
    # rare: of the RealTime QA training questions that name nothing the corpus holds, 18
    # of 271 are answered by it (the rest are near misses and other collections'). On the
    # held-out folds the rule declines 0.2 points more of the own questions (SciFact 1.5),
    # still fewer than 1 in 10 (docs/evaluation.md).
    decline_unknown_names: bool = True
    # An answer compares the figures or dates (`disagreement`) of the passages the ranker
    # gives at least this probability of answering: 0.5 %. Calibrated on training
    # questions that have one right passage each, the probability of a second report that
    # answers as well is low (0.009-0.4 on the default corpus with the ranker of
    # 2026-12-03: 0.13-0.21 for the Aktobe death tolls, 0.009 for the Pallas shop's
    # "14:28"), while passages off the question mostly come under 0.2 %; each must also
    # hold a value of the kind asked beside the question's words (`search/disagreement.py`).
    disagreement_min: float = 0.005
    # Two passages whose content words' keys overlap this much (Jaccard) are one text (a
    # wire report printed by several outlets): the first stands for both and says where
    # else it is.
    duplicate_overlap: float = 0.7
    # At most this many passages of one document come before every passage of the others
    # in the fused order ("host crowding"); the rest follow, in order. Reports on one
    # event disagree, and a reader should see several of them, not one report's
    # paragraphs; a document's best passage keeps its place. 0: no limit.
    per_document: int = 2
    # Rows of the fused order looked at for near-duplicates and MMR: this many times
    # top_k, and at least `diversify_min`.
    diversify_factor: int = 3
    diversify_min: int = 30
    # Maximal marginal relevance: 1 keeps the fused order; lower values trade score for
    # passages unlike those above them.
    mmr_weight: float = 1.0
    # Answer types from spaCy (docs/entities.md), the one switch for all of it: a build
    # finds each passage's typed spans (people, organisations, places, dates, numbers,
    # money, quantities) with spaCy's recogniser and stores them; a question's kind is
    # read from spaCy's tags ("who" -> person, "which city" -> place); the answer_type
    # signal is 1 when the answering sentence holds a stored span of that kind; a server
    # loads the pipeline at start-up. Off (the default): no spaCy anywhere, neither in a
    # build (which stores no spans) nor for a question nor at start-up; the signal asks
    # only "how many" (a number) and "when" (a date) and finds them in the sentence by
    # pattern. Off because the shipped ranker was trained on that pattern signal and not
    # retrained on this one: with it, squad-train-sample (1,000 questions) ranks slightly
    # worse (learned nDCG@10 0.944 against 0.946), at a cost of +22 % to a build (175 s
    # against 144 s, 1,794 passages), +1.4 ms to a new question, and about 110 MB and a
    # few seconds to a server's start. Turn on with a ranker retrained with it, then
    # `qa-service build --full`. An index built with spans served with this off ignores
    # them; one built without served with it on reads numbers and dates by pattern.
    # Read by the build too (settings.ranking.answer_types): one setting, not two that
    # could disagree.
    answer_types: bool = False


@dataclass(frozen=True)
class ServingSettings:
    """What an HTTP server allows and how it follows new builds."""

    # Origins allowed to call the API from a browser (comma-separated; empty: none).
    cors_origins: str = ""
    max_request_bytes: int = 256 * 1024
    # The request line and headers together; more is refused with 431.
    max_header_bytes: int = 64 * 1024
    # A client has this long (seconds) to send a whole request once it starts, and a new
    # connection this long to start one; the server reads it without tying up a request
    # thread, then answers 408 (or just closes a connection that sent nothing).
    request_timeout: float = 30.0
    # Connections one client address may hold in a worker at once; past it a new one is
    # answered 429 with Retry-After at once. A browser holds about 6. 0: no cap, for a
    # server behind a proxy, where every client has the proxy's address (cap there:
    # nginx's limit_conn, docs/operations.md).
    client_connections: int = 100
    # A server checks this often (seconds) whether `current` names a new build, and then
    # serves it without a restart; 0 leaves the switch to SIGHUP alone.
    reload_interval: float = 1.0
    # /api/ready walks the corpus for changes since the build at most this often
    # (seconds), and repeats its last answer in between: a probe every second then does
    # not stat every file of a large corpus each time. 0: every probe walks it.
    stale_check_interval: float = 5.0
    # Requests allowed per client address, in Flask-Limiter's notation ("60/minute",
    # "10/second;300/hour"); empty: no limit. Counted in each worker's memory, so with
    # several workers a client gets up to that many times the limit.
    rate_limit: str = ""
    # API keys (comma-separated), and a file of keys (one a line; blank and # lines
    # ignored); either turns keys on: every /api/* request but /api/health, and /metrics,
    # then needs `Authorization: Bearer <key>`. Several keys let a key be rotated (add the
    # new one, move the clients, drop the old one) without a moment closed.
    api_keys: str = ""
    api_keys_file: str = ""
    # With keys on, requests with a missing or wrong key allowed per client address (the
    # same notation), whether or not `rate_limit` is set: past it the client gets 429 with
    # Retry-After until the window has room, so keys cannot be guessed at speed, while
    # other addresses are unaffected. 10 a minute leaves room for a mistyped key and a
    # page that asks before its first question; counted in each worker's memory. "off":
    # none (behind a proxy every client has its address, and should throttle instead).
    auth_failure_limit: str = "10/minute"
    # Admin keys (comma-separated) and a file of them: the only keys that may add,
    # replace and delete documents (POST/PUT/DELETE /api/documents) and read jobs; they
    # read too. Without one, writes are refused (403): a server is read-only unless
    # someone chose who may change it.
    admin_keys: str = ""
    admin_keys_file: str = ""
    # One write request (multipart upload or JSON document), all files together; each
    # file is also held to the build's max_file_bytes. Other requests keep
    # max_request_bytes.
    max_upload_bytes: int = 32 * 1024 * 1024
    max_upload_files: int = 20
    # Server logs: "text" (one readable line) or "json" (one JSON object a line, for a log
    # pipeline); either carries the request id of the request that logged it.
    log_format: str = "text"

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]


_GROUPS = {"model": ModelSettings, "build": BuildSettings, "ranking": RankingSettings,
           "serving": ServingSettings}


@dataclass(frozen=True)
class Settings:
    """Everything the pipeline can be told; one instance per process or test."""

    corpus: Path = Path("corpus")
    index_dir: Path = Path("index")
    # Several named collections, "name=corpus_folder,..." (qa_service/collections.py);
    # empty: one, `corpus` into `index_dir`.
    collections: str = ""
    model: ModelSettings = field(default_factory=ModelSettings)
    build: BuildSettings = field(default_factory=BuildSettings)
    ranking: RankingSettings = field(default_factory=RankingSettings)
    serving: ServingSettings = field(default_factory=ServingSettings)

    @classmethod
    def keys(cls) -> dict[str, tuple[str | None, Field]]:
        """Return every flat key with its group (None: top level) and field."""
        found: dict[str, tuple[str | None, Field]] = {
            f.name: (None, f) for f in fields(cls) if f.name not in _GROUPS}
        for group, kind in _GROUPS.items():
            for f in fields(kind):
                found[f.metadata.get("key", f.name)] = (group, f)
        return found

    @classmethod
    def from_env(cls, environ: os._Environ | dict | None = None, **overrides) -> Settings:
        """Read `QA_<KEY>` variables, then apply the non-None overrides."""
        environ = os.environ if environ is None else environ
        values = {}
        for key in cls.keys():
            raw = environ.get(f"QA_{key.upper()}")
            if raw not in (None, ""):
                values[key] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls().with_(**values)

    def with_(self, **changes) -> Settings:
        """Return a copy with the non-None changes (by flat key) applied."""
        keys = self.keys()
        top: dict = {}
        groups: dict[str, dict] = {}
        for key, value in changes.items():
            if value is None:
                continue
            if key not in keys:
                raise InvalidInput(f"unknown setting {key!r}")
            group, f = keys[key]
            value = _coerce(key, f.default, value)
            if group is None:
                top[f.name] = value
            else:
                groups.setdefault(group, {})[f.name] = value
        for group, group_changes in groups.items():
            top[group] = replace(getattr(self, group), **group_changes)
        return replace(self, **top)


def _coerce(key: str, default, value):
    """Turn a value (a string from the environment, or a typed override) into the type of
    the setting's default."""
    if isinstance(default, Path):
        return Path(value)
    try:
        if isinstance(default, bool):
            return value if isinstance(value, bool) else (
                str(value).lower() in ("1", "true", "yes", "on"))
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, tuple):
            items = value.split(",") if isinstance(value, str) else value
            return tuple(float(v) for v in items if str(v).strip())
    except (TypeError, ValueError):
        what = "numbers separated by commas" if isinstance(default, tuple) else "a number"
        raise InvalidInput(f"setting {key} must be {what}, got {value!r}") from None
    return str(value)
