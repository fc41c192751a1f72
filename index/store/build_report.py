"""What a build did: `BuildReport`, the summary the CLI and the bot show, and its `--json`.

Written by `index.store.build` (a full build) and `index.store.update` (an append); read back by
the bot from its build child's `--json` output (`BuildReport.from_json`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.model import Skipped, counted


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did.

    Attributes:
        folder: The generation folder now current.
        articles: Articles indexed.
        sentences: Sentences indexed.
        skipped: Files, lines and entries that could not be read, with reasons.
        duplicates: Articles dropped as repeats of another (same id or same text).
        seconds: Wall time of the whole build.
        embedded: Distinct sentence texts the encoder embedded (a repeated text once).
        reused: Sentences whose vector was copied from the previous generation (same text).
        vectors: Whether the generation holds sentence vectors.
        full: Whether everything was indexed again (else only what changed was appended).
        added: Articles indexed by this build (new or changed).
        removed: Articles masked by this build (removed or changed).
        segments: Segments of the generation.
        committed: Whether a new generation was made current; false when nothing changed or a
            check refused it (`refused`): the current generation is then untouched.
        refused: Why the commit was refused (every source failed, too many removals, ...).
        failed_sources: Sources that could not be read: their articles were kept as they were.
        retention_removed: Articles removed by `NEWSBOT_RETENTION` (not counted in `removed`'s
            share against `NEWSBOT_MAX_REMOVAL`).
        notes: What else the build has to say (an older index's bodies rebuilt from sentences).
    """

    folder: Path
    articles: int
    sentences: int
    skipped: tuple[Skipped, ...] = ()
    duplicates: int = 0
    seconds: float = 0.0
    embedded: int = 0
    reused: int = 0
    vectors: bool = False
    full: bool = True
    added: int = 0
    removed: int = 0
    segments: int = 1
    committed: bool = True
    refused: str | None = None
    failed_sources: tuple[str, ...] = ()
    retention_removed: int = 0
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """Return the one-line summary the CLI and the bot show."""
        if self.refused is not None:
            return f"nothing committed, the index is as it was: {self.refused}"
        if not self.committed:
            failing = (
                f", {counted(len(self.failed_sources), 'failing source')}"
                if self.failed_sources
                else ""
            )
            return (
                f"nothing changed ({counted(self.articles, 'article')}{failing}); "
                "the index is as it was"
            )
        kept = (
            f", {counted(len(self.failed_sources), 'failing source')} kept as it was"
            if self.failed_sources
            else ""
        )
        retained = f", {self.retention_removed:,} past retention" if self.retention_removed else ""
        change = (
            " (full rebuild)"
            if self.full
            else f" (+{self.added:,} new or changed, -{self.removed:,} removed or changed, "
            f"{counted(self.segments, 'segment')})"
        )
        return (
            f"{counted(self.articles, 'article')}, {counted(self.sentences, 'sentence')}{change}, "
            f"{len(self.skipped):,} skipped, {self.duplicates:,} duplicates, "
            f"{self.embedded:,} embedded, {self.reused:,} reused, {self.seconds:.1f} s"
            f"{retained}{kept}"
        )

    def to_json(self) -> dict[str, object]:
        """Return the report as JSON-ready data."""
        return {
            "index": str(self.folder),
            "articles": self.articles,
            "sentences": self.sentences,
            "skipped": [
                {"where": s.where, "line": s.line, "reason": s.reason} for s in self.skipped
            ],
            "duplicates": self.duplicates,
            "seconds": round(self.seconds, 3),
            "embedded": self.embedded,
            "reused": self.reused,
            "vectors": self.vectors,
            "full": self.full,
            "added": self.added,
            "removed": self.removed,
            "segments": self.segments,
            "committed": self.committed,
            "refused": self.refused,
            "failed_sources": list(self.failed_sources),
            "retention_removed": self.retention_removed,
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BuildReport:
        """Read a report back from `to_json`'s shape (the bot reads its child build's report)."""
        return cls(
            folder=Path(data["index"]),
            articles=int(data["articles"]),
            sentences=int(data["sentences"]),
            skipped=tuple(Skipped(s["where"], s["line"], s["reason"]) for s in data["skipped"]),
            duplicates=int(data["duplicates"]),
            seconds=float(data["seconds"]),
            embedded=int(data.get("embedded", 0)),
            reused=int(data.get("reused", 0)),
            vectors=bool(data.get("vectors", False)),
            full=bool(data.get("full", True)),
            added=int(data.get("added", 0)),
            removed=int(data.get("removed", 0)),
            segments=int(data.get("segments", 1)),
            committed=bool(data.get("committed", True)),
            refused=data.get("refused"),
            failed_sources=tuple(data.get("failed_sources", ())),
            retention_removed=int(data.get("retention_removed", 0)),
            notes=tuple(data.get("notes", ())),
        )
