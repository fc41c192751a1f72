"""What `bench.follow_kills` publishes, who follows what, and its books: owed, pending, delivered.

`TOPICS` are the standing questions and the article of a new story answering each; `USERS` who
follows which; `Run` keeps what a run published, the kills and what arrived, and gives the
verdicts. The state file is read (`pending_at`, `seen_count`, `standing_in`) while the bot is
down or between its transactions (WAL: readers do not block it).
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.fake_telegram import FakeTelegram

ALERT_PREFIX = "🔔 New on"
MARKER = re.compile(r"Kel[a-z]{4}ox")


@dataclass(frozen=True, slots=True)
class Topic:
    """A standing question, and the article of one new story that answers it.

    Each article names every term of its question: a question is matched with the whole index's
    statistics, so a term no article names weighs more as the topic's articles pile up, and a
    question with one ("what happened to ...") stops being answered (a relevance change, not a
    lost alert).
    """

    key: str
    question: str
    template: str  # formatted with {m} (marker), {a} and {b} (the story's own figures)


TOPICS = (
    Topic(
        "ferry",
        "Why did the Zanzibar ferry operators strike?",
        "Zanzibar ferry operators strike again, the {m} union says, after fuel rose to {a} "
        "shillings. The {m} crews of the Zanzibar ferry operators want {b} more per trip.",
    ),
    Topic(
        "copper",
        "copper prices in Chile",
        "Copper prices in Chile rose to {a} dollars a tonne, the {m} exchange reported. "
        "Traders at {m} expect copper prices in Chile to reach {b} dollars.",
    ),
    Topic(
        "rail",
        "Why are the Kenyan railway workers protesting?",
        "Kenyan railway workers are protesting over wages, the {m} branch said, {a} of them in "
        "Nairobi. The Kenyan railway workers of {m} ask for {b} shillings a month.",
    ),
    Topic(
        "glacier",
        "How fast is the Greenland glacier melting?",
        "The Greenland glacier is melting fast, {a} metres a year, the {m} survey found. The {m} "
        "team measured how fast the Greenland glacier is melting over {b} days.",
    ),
)
OFF_TOPIC = (
    "The {m} bakery in Leeds won a prize for its rye bread and sold {a} loaves in {b} hours.",
    "A {m} orchestra from Vienna played {a} concerts in Tokyo, the last one for {b} listeners.",
)
# Users and the topics they follow; the last follows nothing and must get no alert.
USERS: dict[int, tuple[str, ...]] = {
    2101: ("ferry", "copper"),
    2102: ("copper",),
    2103: ("ferry", "rail", "glacier"),
    2104: ("rail",),
    2105: (),
}


@dataclass(frozen=True, slots=True)
class Published:
    """An article put on the feed: its marker word and the topic it answers (None: none)."""

    marker: str
    topic: str | None


@dataclass(frozen=True, slots=True)
class Kill:
    """One kill: when (seconds after /reindex), and what the state file held after it."""

    after: float
    matched: bool  # the round's articles were marked seen (percolated) before the kill
    pending: frozenset[tuple[int, str]]  # (user, marker) of alerts pending at the kill
    delivered_before: int  # alerts of the round Telegram had taken at the kill


@dataclass
class Run:
    """What a run published, killed and saw delivered."""

    articles: list[Published] = field(default_factory=list)
    kills: list[Kill] = field(default_factory=list)
    window: float = 0.0
    seconds: float = 0.0
    lost_questions: list[str] = field(default_factory=list)
    delivered: Counter[tuple[int, str]] = field(default_factory=Counter)

    def expected(self) -> set[tuple[int, str]]:
        """(user, marker) of every alert owed: each topic article to each of its followers."""
        return {
            (user, a.marker)
            for a in self.articles
            for user, topics in USERS.items()
            if a.topic in topics
        }

    def lost(self) -> list[tuple[int, str]]:
        """Alerts owed that never arrived."""
        return sorted(k for k in self.expected() if self.delivered[k] == 0)

    def duplicates(self) -> int:
        """Deliveries beyond the first."""
        return sum(n - 1 for n in self.delivered.values() if n > 1)

    def unexplained(self) -> list[tuple[int, str]]:
        """Alerts delivered more often than once plus the kills at which they were pending."""
        pending = Counter(k for kill in self.kills for k in kill.pending)
        return sorted(k for k, n in self.delivered.items() if n - 1 > pending[k])

    def unexpected(self) -> list[tuple[int, str]]:
        """Alerts delivered that nothing owed (a precision miss, not a loss)."""
        return sorted(set(self.delivered) - self.expected())


# -- the state file, read while the bot is down (or between its transactions) ------------------


def db_rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows of `sql` on the state file ([] when it does not exist yet)."""
    if not db.exists():
        return []
    with sqlite3.connect(db, timeout=10) as conn:
        return list(conn.execute(sql).fetchall())


def pending_at(db: Path) -> frozenset[tuple[int, str]]:
    """(user, marker) of the alerts pending in the state file."""
    rows = db_rows(db, "SELECT user_id, title FROM alerts WHERE state = 'pending'")
    return frozenset((int(str(u)), m[0]) for u, t in rows if (m := MARKER.findall(str(t))))


def seen_count(db: Path) -> int:
    """Articles the alerts have matched (or found not news)."""
    return int(str(db_rows(db, "SELECT COUNT(*) FROM seen")[0][0]))


def standing_in(db: Path) -> set[tuple[int, str]]:
    """(user, question) of every standing question in the state file."""
    return {(int(str(u)), str(t)) for u, t in db_rows(db, "SELECT user_id, text FROM standing")}


def alerts_delivered(telegram: FakeTelegram) -> Counter[tuple[int, str]]:
    """(user, marker) of every alert in the users' chats, with how many times it arrived."""
    found: Counter[tuple[int, str]] = Counter()
    for user in USERS:
        chat = telegram.chats.get(user)
        for message in chat.bot_messages if chat else []:
            text = message.text or ""
            if text.startswith(ALERT_PREFIX) and (markers := MARKER.findall(text)):
                found[(user, markers[0])] += 1
    return found


def owed(new: Sequence[Published]) -> set[tuple[int, str]]:
    """(user, marker) of the alerts the articles `new` owe."""
    return {(u, a.marker) for a in new for u, topics in USERS.items() if a.topic in topics}
