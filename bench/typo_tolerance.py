"""A spelling-tolerant question (issue #19): what correcting typos before ranking gains and costs.

The names check already tolerates one typo in a long name (`index.text.mentions.TOLERANT`). This
bench measures the rest: each question word of `TYPO_LENGTH` letters or more that the index does not
know (its analyzed term is in no sentence) is replaced by the most frequent indexed word one typo
away (SymSpell: a letter added, dropped, changed, or two neighbours swapped), before `ask`. It
reports, on the dev split's typo variant and its originals: Hit@3 and answerable refused with and
without the correction, off-topic and absent-fact questions refused, and what the word table costs
here (entries, bytes).

    python bench/typo_tolerance.py
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as `python bench/typo_tolerance.py`
    sys.path.insert(0, str(ROOT))

from bench.eval_index import attach_vectors, build_dev_index  # noqa: E402
from bench.eval_questions import ANSWERABLE_KINDS, DevQuestion, load_questions  # noqa: E402
from bench.names_decision import hit_in, typing_variants  # noqa: E402
from index.answers.search import NewsIndex  # noqa: E402
from index.text.analysis import fold  # noqa: E402
from index.text.mentions import TYPO_LENGTH  # noqa: E402

WORD = re.compile(r"[^\W\d_]+")


class Speller:
    """The index's words, and each one with a letter left out, to correct a typo."""

    def __init__(self, index: NewsIndex) -> None:
        counts: Counter[str] = Counter()
        for row in range(index.n_sentences):
            counts.update(WORD.findall(fold(index.sentence(row).lower())))
        self.counts = counts
        self.deleted: dict[str, list[str]] = {}
        for word in counts:
            if len(word) >= TYPO_LENGTH - 1:
                for near in {word[:i] + word[i + 1 :] for i in range(len(word))}:
                    self.deleted.setdefault(near, []).append(word)
        self.index = index

    def correct(self, question: str) -> str:
        """Return `question` with each long unknown word replaced by its likeliest correction."""

        def fix(match: re.Match[str]) -> str:
            word = match.group()
            lower = word.lower()
            if len(lower) < TYPO_LENGTH or lower in self.counts:
                return word
            if all(t in self.index.bm25.terms for t in self.index.analyzer.terms(word)):
                return word
            near = set(self.deleted.get(lower, []))
            for i in range(len(lower)):
                shorter = lower[:i] + lower[i + 1 :]
                near.update(self.deleted.get(shorter, []))
                if shorter in self.counts:
                    near.add(shorter)
            if not near:
                return word
            best = max(sorted(near), key=lambda w: self.counts[w])
            return best.capitalize() if word[0].isupper() else best

        return WORD.sub(fix, question)

    def size(self) -> tuple[int, int]:
        """Return the table's entries and its approximate bytes (Python objects)."""
        entries = sum(len(v) for v in self.deleted.values())
        nbytes = sum(sys.getsizeof(k) + 64 + 8 * len(v) for k, v in self.deleted.items())
        return entries, nbytes


def rows(index: NewsIndex, speller: Speller, questions: Sequence[DevQuestion]) -> list[str]:
    """Hit@3 and answerable refused, as typed and corrected, for the originals and the typos."""
    variants = typing_variants(index)
    out = []
    for kind in ("original", "typo"):
        results = {"as typed": [0, 0, 0], "corrected": [0, 0, 0]}  # n, hits, refused
        for question in questions:
            if question.kind not in ANSWERABLE_KINDS:
                continue
            text = variants(question).get(kind)
            if text is None:
                continue
            for label, asked in (("as typed", text), ("corrected", speller.correct(text))):
                found = index.ask(asked, k=3)
                counts = results[label]
                counts[0] += 1
                counts[1] += hit_in(question, found.answers)
                counts[2] += not found.answers
        for label, (n, hits, refused) in results.items():
            out.append(f"| {kind} | {label} | {n} | {hits / n:.3f} | {refused / n:.1%} |")
    for kind in ("offtopic", "absent"):
        asked = [q.question for q in questions if q.kind == kind]
        for label, texts in (("as typed", asked), ("corrected", map(speller.correct, asked))):
            refused = [not index.ask(t, k=3).answers for t in texts]
            out.append(
                f"| {kind} (original) | {label} | {len(refused)} | - "
                f"| {sum(refused) / len(refused):.1%} refused or caveat |"
            )
    return out


def main() -> int:
    questions = load_questions(ROOT / "bench" / "questions" / "dev.jsonl")
    with tempfile.TemporaryDirectory(prefix="newsbot-typos-") as tmp:
        index = build_dev_index(Path(tmp) / "index", questions=questions)
        if not attach_vectors(index):
            print("the sentence model is not installed", file=sys.stderr)
            return 2
        speller = Speller(index)
        entries, nbytes = speller.size()
        words = len(speller.counts)
        print(
            f"{index.n_sentences:,} sentences, {words:,} words: {entries:,} table entries, "
            f"about {nbytes / 2**20:.1f} MB\n"
        )
        print("| variant | question | answerable | Hit@3 | refused |\n|---|---|---|---|---|")
        print("\n".join(rows(index, speller, questions)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
