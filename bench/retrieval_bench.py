"""Retrieval: indexing a folder of documents, and one lexical search at 100,000 chunks.

1. Indexing: 1,000 Markdown documents (about 5 MB of text, generated with headings and
   paragraphs) read, chunked and stored with FTS5 by `add_documents`, against a plain loop
   that reads the same files and splits them on blank lines (no structure, no storage): medians
   of several rounds, their ratio, and the peak memory of one indexing round (tracemalloc).
2. Search: a workspace with about 100,000 chunks; the median time of one `search_chunks`
   (BM25, k = 4) over many different queries, against a bare FTS5 MATCH of the same query in
   sqlite3. Target (issue #11): under 20 ms per search.

    .venv/bin/python bench/retrieval_bench.py [--docs 1000] [--chunks 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lab.core.model import Project  # noqa: E402
from lab.core.retrieval.indexing import add_documents, chunking_key  # noqa: E402
from lab.core.workspace.documents import fts_terms  # noqa: E402
from lab.core.workspace.store import open_workspace  # noqa: E402

WORDS = ("refund parcel delivery exchange warranty boots tent jacket apology discount receipt "
         "tracking courier invoice return damaged replacement size colour stock order payment "
         "card voucher gift wrapping express standard pickup locker customs duty").split()


# A vocabulary like a real one: a few topic words, a long tail of rarer ones (Zipf), and the
# function words every sentence has.
FUNCTION = "the a of to and in is it for on with as at by this that from or be are".split()
TAIL = [f"{a}{b}{c}" for a in ("ba", "ke", "lo", "mi", "nu", "ro", "si", "ta", "vo", "ze")
        for b in ("dar", "fen", "gol", "hux", "jip", "kor", "lem", "mox", "nib", "pel", "quor",
                  "rast", "sep", "tol", "vint", "wex", "yarn", "zub", "bril", "cran")
        for c in ("", "a", "o", "is", "um", "et", "ix", "on", "ar", "el")]
VOCABULARY = WORDS + TAIL  # about 2,000 words; the topic words the most frequent
WEIGHTS = [1 / (rank + 10) for rank in range(len(VOCABULARY))]


def sentence(rng: random.Random) -> str:
    words = []
    for _ in range(rng.randint(8, 18)):
        words.append(rng.choice(FUNCTION) if rng.random() < 0.4 else
                     rng.choices(VOCABULARY, WEIGHTS)[0])
    return " ".join(words).capitalize() + "."


def write_corpus(folder: Path, docs: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    total = 0
    for i in range(docs):
        parts = [f"# Policy {i}"]
        for section in range(rng.randint(3, 6)):
            parts.append(f"## Section {section}: {rng.choice(WORDS)}")
            for _ in range(rng.randint(2, 4)):
                parts.append(" ".join(sentence(rng) for _ in range(rng.randint(3, 7))))
        text = "\n\n".join(parts) + "\n"
        (folder / f"policy-{i:04d}.md").write_text(text)
        total += len(text)
    return total


def plain_loop(folder: Path) -> int:
    pieces = 0
    for path in sorted(folder.glob("*.md")):
        pieces += len([p for p in path.read_text().split("\n\n") if p.strip()])
    return pieces


def index_round(folder: Path) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        with open_workspace(Path(tmp) / "w.db") as store:
            project_id = store.save_project(Project("bench"))
            started = time.perf_counter()
            report = add_documents(store, project_id, [folder])
            elapsed = time.perf_counter() - started
            assert not report.problems, report.problems
            return elapsed, report.chunks_added


def search_bench(chunks: int, queries: int) -> None:
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "w.db"
        with open_workspace(db) as store:
            project_id = store.save_project(Project("bench"))
            doc_id = store.save_document(project_id, "/bench/big.md", "big.md", "markdown", "",
                                         "x", chunking_key())
            rows = [(i + 1, " ".join(sentence(rng) for _ in range(4)), f"Section {i % 50}", 60,
                     f"h{i}") for i in range(chunks)]
            built = time.perf_counter()
            store.replace_chunks(doc_id, chunking_key(), rows)
            print(f"  built {chunks:,} chunks in {time.perf_counter() - built:.1f} s")
            texts = [f"How do I get a {rng.choice(WORDS)} for my {rng.choice(VOCABULARY)} "
                     f"{rng.choice(TAIL)}?" for _ in range(queries)]
            lab, bare = [], []
            conn = sqlite3.connect(db)
            for text in texts:
                started = time.perf_counter()
                hits = store.search_chunks(project_id, None, text, 4)
                lab.append(time.perf_counter() - started)
                assert len(hits) == 4
                started = time.perf_counter()
                conn.execute("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY"
                             " rank LIMIT 4", [fts_terms(text)]).fetchall()
                bare.append(time.perf_counter() - started)
            conn.close()
    lab_ms, bare_ms = statistics.median(lab) * 1000, statistics.median(bare) * 1000
    print(f"  search_chunks median {lab_ms:.1f} ms (p95 {sorted(lab)[int(len(lab) * .95)] * 1000:.1f}),"
          f" a bare FTS5 MATCH of every content word {bare_ms:.1f} ms, ratio "
          f"{lab_ms / bare_ms:.2f} (target < 20 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        size = write_corpus(folder, args.docs)
        print(f"{args.docs:,} documents, {size / 1e6:.1f} MB")
        plain_loop(folder)  # warm the page cache
        lab_times, plain_times = [], []
        for _ in range(args.rounds):
            started = time.perf_counter()
            plain_loop(folder)
            plain_times.append(time.perf_counter() - started)
            elapsed, chunks = index_round(folder)
            lab_times.append(elapsed)
        tracemalloc.start()
        index_round(folder)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        lab_median, plain_median = statistics.median(lab_times), statistics.median(plain_times)
        print(f"  indexing median {lab_median:.2f} s ({chunks:,} chunks), plain read+split "
              f"{plain_median:.3f} s, ratio {lab_median / plain_median:.0f}x; peak traced "
              f"memory {peak / 1e6:.1f} MB")
    search_bench(args.chunks, args.queries)


if __name__ == "__main__":
    main()
