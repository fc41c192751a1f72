"""Where a serving process's memory goes: RSS added by each step of loading an index, then asking.

Imports what `newsbot run` imports, loads the index's current generation step by step in the
order `index.answers.search.NewsIndex.load` takes (checksums, BM25, archive, vectors, encoder), runs
the bot's warm-up search, then asks `--questions` questions from 6 threads (as the bot's
`asyncio.to_thread` does). After each step it prints the anonymous and file-backed resident memory
(/proc/self/status: RssAnon, RssFile) and what the step added, in MB (MiB).

    HF_HUB_OFFLINE=1 python -m bench.serving_memory --index-dir bench/out/semantic-1m
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"


class Resident:
    """Prints the resident memory after each step, and what the step added."""

    def __init__(self) -> None:
        self.anonymous, self.file_backed = 0.0, 0.0

    def step(self, name: str) -> None:
        lines = Path("/proc/self/status").read_text().splitlines()
        kb = {line.split(":")[0]: int(line.split()[1]) for line in lines if line.startswith("Rss")}
        anonymous, file_backed = kb["RssAnon"] / 1024, kb["RssFile"] / 1024
        print(
            f"| {name} | {anonymous - self.anonymous:+.0f} | {file_backed - self.file_backed:+.0f} "
            f"| {anonymous:.0f} + {file_backed:.0f} = {anonymous + file_backed:.0f} |",
            flush=True,
        )
        self.anonymous, self.file_backed = anonymous, file_backed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, default=OUT / "semantic-1m")
    parser.add_argument("--questions", type=Path, default=OUT / "corpus-1m" / "questions.jsonl")
    parser.add_argument("--count", type=int, default=300, help="questions asked")
    args = parser.parse_args()
    resident = Resident()
    print("| step | anonymous MB | file-backed MB | after: anonymous + file-backed = RSS |")
    print("|---|---|---|---|")
    resident.step("Python started")
    import numpy  # noqa: F401

    resident.step("import numpy")
    import numba  # noqa: F401

    resident.step("import numba (llvmlite)")
    import telegram.ext  # noqa: F401

    resident.step("import python-telegram-bot")
    import bot.app  # noqa: F401
    from index.answers.search import NewsIndex
    from index.lexical.segments import load_segmented
    from index.semantic.embedding import SentenceEncoder
    from index.semantic.vectors import SentenceVectors, shared_encoder
    from index.store import layout
    from index.store.archive import Archive
    from index.store.generations import current_generation, read_header

    resident.step("import the bot's and the index's modules")
    folder = current_generation(args.index_dir)
    header = read_header(folder)
    layout.verify_files(folder, header["files"])
    resident.step("`verify_files`: the checksum of every file")
    archive = Archive.load(folder)
    resident.step("`Archive.load`")
    bm25 = load_segmented(folder, header, archive.live_sentences)
    resident.step("`load_segmented` (BM25 segments) and its checks")
    vectors = SentenceVectors.load(folder)
    resident.step("`SentenceVectors.load` (sign bits copied)")
    import onnxruntime  # noqa: F401

    resident.step("import onnxruntime")
    encoder: SentenceEncoder | None = shared_encoder()
    resident.step("the onnxruntime session (`shared_encoder`)")
    news = NewsIndex(folder, header, bm25, archive, vectors, encoder)
    news.search("news", 1)
    resident.step("the warm-up search (numba loads its cached kernels)")
    if vectors is not None and encoder is not None:
        question = news.embed_question("What did the central bank say?")
        assert question is not None
        vectors.top_k(question, 50)
        resident.step("the first `top_k` (numba compiles `_read_rows`)")
    with args.questions.open(encoding="utf-8") as lines:
        questions = [json.loads(line)["question"] for line in lines if line.strip()]
    questions = questions[: args.count]
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda q: news.ask(q, 3), questions))
    resident.step(f"{len(questions)} questions asked from 6 threads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
