"""Which sources the bot reads: those configured, those admins added in the chat, those retired.

`NEWSBOT_SOURCES` is the operator's list; admins add feeds from the chat (`/addfeed`, an OPML
file) and remove them (`/removefeed`). A source that leaves `NEWSBOT_SOURCES` between two starts
(or that the index remembers without its being configured) is *retired*: no longer read, its
articles kept until an admin confirms their removal, and `/feeds` shows it as no longer
configured. The ledger is a small JSON file in the index folder, written atomically, so that what
admins did in the chat outlives a restart.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from index.config import canonical_source

log = logging.getLogger(__name__)

LEDGER_FILE = "bot-sources.json"


def _unique(sources: Iterable[str]) -> tuple[str, ...]:
    """Return `sources` without repeats, in their first order."""
    return tuple(dict.fromkeys(sources))


@dataclass(frozen=True, slots=True)
class SourceLedger:
    """The bot's sources and where each came from.

    Attributes:
        configured: `NEWSBOT_SOURCES` as read at the last start.
        added: Sources admins added from the chat, not (yet) configured.
        retired: Sources no longer configured whose articles the index still holds.
    """

    configured: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    retired: tuple[str, ...] = ()

    @property
    def active(self) -> tuple[str, ...]:
        """The sources read and refreshed: the configured ones, then those added in the chat."""
        return _unique((*self.configured, *self.added))

    @property
    def removable(self) -> tuple[str, ...]:
        """The sources an admin can remove from the chat (configured ones are removed there)."""
        return _unique((*self.added, *self.retired))

    def restarted(self, configured: Sequence[str], remembered: Sequence[str]) -> SourceLedger:
        """Return the ledger at a start with `configured` sources and an index's `remembered` ones.

        `remembered` is the index header's sources (empty for an index that does not say them).
        What was configured before or is remembered, and is neither configured nor added now,
        is retired; a retired source configured again is active again.
        """
        now = _unique(configured)
        added = tuple(s for s in self.added if not is_among(s, now))
        gone = (*self.retired, *self.configured, *remembered)
        kept = (*now, *added)
        retired: dict[str, None] = {}
        for source in gone:
            if not is_among(source, kept) and not is_among(source, retired):
                retired[source] = None
        return SourceLedger(now, added, tuple(retired))

    def add(self, sources: Iterable[str]) -> SourceLedger:
        """Return the ledger with `sources` added (read again, when they were retired)."""
        new = tuple(s for s in _unique(sources) if not is_among(s, self.active))
        return replace(
            self,
            added=(*self.added, *new),
            retired=tuple(s for s in self.retired if not is_among(s, new)),
        )

    def remove(self, source: str) -> SourceLedger:
        """Return the ledger without `source` among the added and the retired."""
        return replace(
            self,
            added=tuple(s for s in self.added if s != source),
            retired=tuple(s for s in self.retired if s != source),
        )

    # -- on disk -----------------------------------------------------------------------------

    @classmethod
    def load(cls, index_dir: Path) -> SourceLedger:
        """Read the ledger of `index_dir`; an empty one when there is none or it is unreadable."""
        path = index_dir / LEDGER_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(*(_strings(data, key) for key in ("configured", "added", "retired")))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError, TypeError) as exc:
            log.warning("cannot read %s (%s); starting from the configured sources", path, exc)
            return cls()

    def save(self, index_dir: Path) -> None:
        """Write the ledger into `index_dir` atomically (a temporary file, then a rename)."""
        index_dir.mkdir(parents=True, exist_ok=True)
        path = index_dir / LEDGER_FILE
        temporary = path.with_name(f".{LEDGER_FILE}.{os.getpid()}.tmp")
        data = {"configured": self.configured, "added": self.added, "retired": self.retired}
        temporary.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(temporary, path)


def is_among(source: str, sources: Iterable[str]) -> bool:
    """Return whether `source` is one of `sources`, as the index knows sources (paths absolute)."""
    canonical = canonical_source(source)
    return any(canonical_source(s) == canonical for s in sources)


def _strings(data: object, key: str) -> tuple[str, ...]:
    """Return `data[key]`, a list of strings, as a tuple; raise TypeError for anything else."""
    if not isinstance(data, dict):
        raise TypeError("not a JSON object")
    values = data.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise TypeError(f"{key!r} is not a list of strings")
    return tuple(values)
