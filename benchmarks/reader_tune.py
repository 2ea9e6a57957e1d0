"""Tune the probe's reader on the service's own shown lists, and score it on held-out news.

Usage:
    python benchmarks/reader_tune.py mine INDEX_DIR BEIR_FOLDER OUT.jsonl [-n N] [--k 40]
    python benchmarks/reader_tune.py heldout EXAMPLES OUT.jsonl
    python benchmarks/reader_tune.py tune READER OUT --news NEWS.jsonl [--other SQUAD.jsonl]
        [--steps 1400] [--held-folds 3,4]
    python benchmarks/reader_tune.py score READER --heldout HELD.jsonl --lists NEWS.jsonl
        [--folds 3,4]
    python benchmarks/reader_tune.py declines READER --heldout HELD.jsonl --lists NEWS.jsonl
        [--folds 3,4] [--read 3]

`benchmarks/reader_probe.py` trains a reader on SQuAD sentences against random others;
here it learns what it would face in service: the ten passages the ranker shows, each
read as the sentence the service highlights (after its document's title, where the
document has one). `mine` asks a training collection's questions (qrels judged) and keeps
each ranked list; `tune` fine-tunes a reader (a probe's folder, or the packaged model's
own for all six layers and a new head) listwise on them (the judged passage among
the first ten against up to seven shown beside it), leaving out the news questions of
`--held-folds`. `heldout` scores every candidate of the gathered training examples
(`train-ranker --examples`) with the ranker fitted on the other folds, as a served
question is one the ranker never saw (near misses too, each with its held-out
answerability); `score` re-ranks the held-out folds' first ten by held-out ranker score +
w x reader, w read on one fold and applied to the other; `declines` asks whether the
reader's score of the first cards tells a near miss (a news question whose judged
passages were taken out) from an answerable one, alone and beside answerability.

Nothing here ships; it is measured against the training collections only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).parent))

from reader_probe import SHOWN, Reader, fit, listwise, log_odds, mix  # noqa: E402

GROUP = 8  # texts a tuning question is read against: its answer and up to seven shown
NEWS = "realtimeqa-train"
MIX_WEIGHTS = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0)
FOLDS, SEED = 5, 0  # as the shipped ranker was cross-validated (docs/evaluation.md)
OWN_DECLINED = 0.10  # issue 23: fewer than 1 in 10 answerable questions declined


def read_text(doc_id: str, title: str, highlight: str) -> str:
    """Return what the reader reads of a passage: its document's title (where it has
    one), then the highlighted sentence."""
    return f"{title}: {highlight}" if title and title != doc_id else highlight


def mine(args) -> int:
    from qa_service.config import Settings
    from qa_service.evaluate.beir import QUERY_CHARS, load_collection
    from qa_service.service import Service

    if not (args.beir / "queries.jsonl").is_file():
        print(f"skipped: {args.beir} is absent", file=sys.stderr)
        return 0
    collection = load_collection(args.beir)
    texts = collection.queries
    gold = {qid: [doc for doc, grade in judged.items() if grade > 0]
            for qid, judged in collection.qrels.items()}
    ids = sorted(qid for qid, docs in gold.items() if docs)
    random.Random(args.seed).shuffle(ids)
    ids = ids[:args.n]
    searcher = Service.load(Settings.from_env(index_dir=args.index_dir)).searcher
    started = time.time()
    with open(args.out, "w") as out:
        for n, qid in enumerate(ids, 1):
            ranking = searcher.rank(texts[qid][:QUERY_CHARS], (), args.k)
            items = []
            for row in ranking.rows:
                rec, (start, end) = ranking.records[row], ranking.highlights[row]
                items.append([rec["doc_id"], rec["title"] or "", rec["text"][start:end]])
            out.write(json.dumps({"qid": qid, "question": texts[qid], "gold": gold[qid],
                                  "items": items}) + "\n")
            if n % 500 == 0 or n == len(ids):
                spent = time.time() - started
                print(f"{n}/{len(ids)} questions, {spent:.0f} s, about "
                      f"{spent / n * (len(ids) - n):.0f} s left", flush=True)
    return 0


def heldout(args) -> int:
    import numpy as np

    from qa_service.learn import ExampleSet
    from qa_service.learn.fit import calibration_row, fold_of
    from qa_service.learn.train import cross_validate, held_out_probabilities
    from qa_service.search.signals import SIGNALS

    if not args.examples.is_file():
        print(f"skipped: no file {args.examples}", file=sys.stderr)
        return 0
    examples = ExampleSet.load(args.examples).examples
    held = cross_validate(examples, tuple(s.name for s in SIGNALS), FOLDS, SEED)
    # Answerability as the service fits it (balanced classes), each question's from the
    # model fitted on the other folds.
    rows = np.array([calibration_row(e, held[i]) for i, e in enumerate(examples)])
    answered = np.array([e.own for e in examples], dtype=np.int32)
    answers = held_out_probabilities(examples, rows, answered, FOLDS, SEED, balanced=True)
    with open(args.out, "w") as out:
        for i, e in enumerate(examples):
            if e.own or e.removed:
                out.write(json.dumps({"collection": e.collection, "qid": e.qid,
                                      "fold": fold_of(e, FOLDS, SEED), "removed": e.removed,
                                      "answerability": float(answers[i]),
                                      "scores": dict(zip(e.doc_ids, held[i].tolist())),
                                      "judged": e.judged}) + "\n")
    return 0


def _fold(qid: str) -> int:
    """A news question's fold, as `fold_of` gives it for one asked of its own collection."""
    from qa_service.learn.fit import fold_of

    return fold_of(argparse.Namespace(origin=NEWS, qid=qid), FOLDS, SEED)


def _groups(path: Path, held: set[int]) -> list[tuple[str, str, list[str]]]:
    """(question, its judged passage's text, the texts shown beside it) from a mined list,
    but for the news questions of the `held` folds."""
    groups = []
    with open(path) as f:
        for d in map(json.loads, f):
            if held and _fold(d["qid"]) in held:
                continue  # a news question kept for `score`
            gold = set(d["gold"])
            right = [it for it in d["items"][:SHOWN] if it[0] in gold]
            wrong = [it for it in d["items"] if it[0] not in gold][:GROUP - 1]
            if right and wrong:
                groups.append((d["question"], read_text(*right[0][:3]),
                               [read_text(*it[:3]) for it in wrong]))
    return groups


def tune(args) -> int:
    import torch

    # A folder with no head.pt (the packaged embedding model's own) starts a new head.
    if not (args.reader / "config.json").is_file() or not args.news.is_file():
        print(f"skipped: no model in {args.reader} or no file {args.news}", file=sys.stderr)
        return 0
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    held = {int(k) for k in args.held_folds.split(",")}
    groups = []
    for path, times, keep in [(args.news, args.news_times, held)] + \
            [(other, 1, set()) for other in args.other]:
        found = _groups(path, keep)
        print(f"{path}: {len(found)} questions with a judged passage shown", flush=True)
        groups += found * times
    random.Random(args.seed).shuffle(groups)
    reader = Reader(str(args.reader))

    def batch_loss(step: int):
        batch = [groups[(step * args.batch + i) % len(groups)] for i in range(args.batch)]
        sizes = [1 + len(others) for _, _, others in batch]
        logits = reader([q for (q, _, _), n in zip(batch, sizes) for _ in range(n)],
                        [t for _, answer, others in batch for t in [answer, *others]])
        table = torch.full((len(batch), GROUP), float("-inf"))
        at = 0
        for i, n in enumerate(sizes):
            table[i, :n] = logits[at:at + n]
            at += n
        return listwise(table)

    fit(reader, args.steps, args.lr, 50, batch_loss)
    args.out.mkdir(parents=True, exist_ok=True)
    reader.save(args.out)
    print(f"saved {args.out}")
    return 0


def _held_out_setup(args) -> tuple[Reader, list[int], dict] | None:
    """Return the reader, the held-out folds and the mined lists by question id (None:
    a file is absent, said on stderr)."""
    import torch

    if not (args.heldout.is_file() and args.lists.is_file()):
        print("skipped: no held-out scores or mined lists", file=sys.stderr)
        return None
    torch.set_num_threads(args.threads)
    reader = Reader(str(args.reader))
    reader.encoder.eval()
    with open(args.lists) as f:
        mined = {d["qid"]: d for d in map(json.loads, f)}
    return reader, [int(k) for k in args.folds.split(",")], mined


def score(args) -> int:
    import torch

    if (setup := _held_out_setup(args)) is None:
        return 0
    reader, folds, mined = setup
    by_fold: dict[int, list] = {k: [] for k in folds}
    unread = 0
    with open(args.heldout) as f, torch.inference_mode():
        for d in map(json.loads, f):
            if d["collection"] != NEWS or d["fold"] not in folds or d["qid"] not in mined \
                    or d.get("removed"):
                continue
            if not any(d["judged"].get(doc, 0) > 0 for doc in d["scores"]):
                continue  # no judged passage among the candidates: no order helps
            texts = {it[0]: read_text(*it[:3]) for it in mined[d["qid"]]["items"]}
            first = sorted(d["scores"].items(), key=lambda kv: -kv[1])[:SHOWN]
            unread += sum(doc not in texts for doc, _ in first)
            read = reader([mined[d["qid"]]["question"]] * len(first),
                          [texts.get(doc, "") for doc, _ in first]).tolist()
            by_fold[d["fold"]].append([(s, r, d["judged"].get(doc, 0) > 0)
                                       for (doc, s), r in zip(first, read)])
    every = [x for k in folds for x in by_fold[k]]
    print(f"news, held-out folds {folds}: {[len(by_fold[k]) for k in folds]} questions "
          f"({unread} shown passages not mined, read as empty); MRR@10 / hit@1")
    for w in MIX_WEIGHTS:
        print(f"  ranker + {w} x reader: all {mix(every, w)}; "
              + "; ".join(f"fold {k} {mix(by_fold[k], w)}" for k in folds))
    print(f"  reader alone: {mix(every, 1e6)}")
    for chosen_on in folds:
        w = max(MIX_WEIGHTS, key=lambda w: mix(by_fold[chosen_on], w)[0])
        for other in (k for k in folds if k != chosen_on):
            print(f"  w read on fold {chosen_on}: {w}; fold {other}: {mix(by_fold[other], 0.0)} "
                  f"-> {mix(by_fold[other], w)}")
    return 0


def _near_declined(entries: list, key) -> float:
    """Return the share of near misses declined by `key` < the bound that declines
    OWN_DECLINED of the answerable questions."""
    import numpy as np

    bound = np.quantile([key(e) for e in entries if not e[1]], OWN_DECLINED)
    near = [key(e) < bound for e in entries if e[1]]
    return round(sum(near) / len(near), 3)


def declines(args) -> int:
    import torch
    from sklearn.metrics import roc_auc_score

    if (setup := _held_out_setup(args)) is None:
        return 0
    reader, folds, mined = setup
    entries, unread = [], 0  # (fold, near miss, answerability's log-odds, reader scores)
    with open(args.heldout) as f, torch.inference_mode():
        for d in map(json.loads, f):
            if d["collection"] != NEWS or d["fold"] not in folds or d["qid"] not in mined \
                    or "answerability" not in d:
                continue
            # A near miss's passages are the rest of its own question's list.
            texts = {it[0]: read_text(*it[:3]) for it in mined[d["qid"]]["items"]}
            first = sorted(d["scores"], key=lambda doc: -d["scores"][doc])[:args.read]
            if not first:
                continue
            unread += sum(doc not in texts for doc in first)
            read = reader([mined[d["qid"]]["question"]] * len(first),
                          [texts.get(doc, "") for doc in first]).tolist()
            entries.append((d["fold"], d["removed"], log_odds(d["answerability"]), read))
    rules = {"answerability": lambda e: e[2], "reader, first card": lambda e: e[3][0],
             f"reader, best of {args.read}": lambda e: max(e[3])}
    print(f"news, held-out folds {folds}: {sum(not e[1] for e in entries)} answerable, "
          f"{sum(e[1] for e in entries)} near misses ({unread} first cards not mined, read as "
          f"empty); AUC answerable vs near miss, near misses declined where "
          f"{OWN_DECLINED:.0%} of answerable ones are")
    for fold in [*folds, None]:
        chosen = [e for e in entries if fold is None or e[0] == fold]
        print(f"  fold {fold if fold is not None else args.folds}: " + "; ".join(
            f"{name} {roc_auc_score([not e[1] for e in chosen], [rule(e) for e in chosen]):.3f}"
            f" / {_near_declined(chosen, rule)}" for name, rule in rules.items()))
    for name, rule in list(rules.items())[1:]:
        def beside(v: float, rule=rule):
            return lambda e: e[2] + v * rule(e)  # answerability's log-odds + v x reader

        for chosen_on in folds:
            on = [e for e in entries if e[0] == chosen_on]
            v = max(MIX_WEIGHTS, key=lambda v: _near_declined(on, beside(v)))
            for other in (k for k in folds if k != chosen_on):
                off = [e for e in entries if e[0] == other]
                print(f"  answerability + v x {name}, v read on fold {chosen_on}: {v}; fold "
                      f"{other}: {_near_declined(off, beside(0.0))} -> "
                      f"{_near_declined(off, beside(v))}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("mine")
    p.add_argument("index_dir", type=Path)
    p.add_argument("beir", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("-n", type=int, default=10_000)
    p.add_argument("--k", type=int, default=40, help="passages kept a question")
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(run=mine)
    p = sub.add_parser("heldout")
    p.add_argument("examples", type=Path)
    p.add_argument("out", type=Path)
    p.set_defaults(run=heldout)
    p = sub.add_parser("tune")
    p.add_argument("reader", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--news", type=Path, required=True, help="mined news lists")
    p.add_argument("--other", type=Path, action="append", default=[],
                   help="another collection's mined lists")
    p.add_argument("--held-folds", default="3,4")
    p.add_argument("--news-times", type=int, default=2, help="news lists read this often")
    p.add_argument("--steps", type=int, default=1400)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(run=tune)
    # What the two commands that read held-out news with a reader both take.
    held = argparse.ArgumentParser(add_help=False)
    held.add_argument("reader", type=Path)
    held.add_argument("--heldout", type=Path, required=True)
    held.add_argument("--lists", type=Path, required=True)
    held.add_argument("--folds", default="3,4")
    held.add_argument("--threads", type=int, default=2)
    sub.add_parser("score", parents=[held]).set_defaults(run=score)
    p = sub.add_parser("declines", parents=[held])
    p.add_argument("--read", type=int, default=3, help="first cards read a question")
    p.set_defaults(run=declines)
    args = parser.parse_args()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
