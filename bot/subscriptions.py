"""What the bot keeps about its users between runs: standing questions, digests, alerts, in SQLite.

One file (`state.sqlite3` in the per-user data folder, `NEWSBOT_STATE_DB` to place it), the
standard library's `sqlite3` in WAL mode, every change in one transaction. The schema carries
its version (`PRAGMA user_version`); `MIGRATIONS[n]` takes a file from version n to n + 1, so an
older file is brought up to date at open and a newer one is refused with one line. The records
it takes and returns (`StandingQuestion`, `Alert`, `Reader`) are `bot.state_records`'.

Alerts are kept at least once: the percolator records an alert as `pending` in the same
transaction that marks its articles as seen (`record_matches`), and `mark_sent` records
Telegram's answer. A bot killed in between finds the alert still pending at its next start and
sends it: only an alert in flight at the kill can arrive twice, none is lost.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.state_records import (
    Alert,
    AlertState,
    NewAlert,
    Reader,
    StandingQuestion,
    alert_of,
    reader_of,
    standing_of,
)

# Standing questions one user may keep.
MAX_FOLLOWED = 20

# Each entry takes the schema from version i to i + 1; never edit one that has shipped, add one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE users (
        user_id INTEGER PRIMARY KEY,
        chat_id INTEGER NOT NULL,
        timezone TEXT,
        digest_at TEXT,
        last_digest TEXT
    );
    CREATE TABLE standing (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL,
        text TEXT NOT NULL,
        terms TEXT NOT NULL,
        vector BLOB,
        created TEXT NOT NULL
    );
    CREATE INDEX standing_by_user ON standing (user_id, id);
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL,
        chat_id INTEGER NOT NULL,
        standing_id INTEGER NOT NULL,
        story TEXT NOT NULL,
        title TEXT NOT NULL,
        url TEXT,
        body TEXT NOT NULL,
        state TEXT NOT NULL,
        created TEXT NOT NULL,
        sent TEXT,
        UNIQUE (user_id, story)
    );
    CREATE INDEX alerts_by_state ON alerts (state, user_id);
    CREATE TABLE seen (article_key INTEGER PRIMARY KEY, story TEXT NOT NULL);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class StateError(Exception):
    """The state file cannot be used (written by a newer newsbot, or not SQLite)."""


class FollowLimitError(Exception):
    """The user already follows `MAX_FOLLOWED` questions."""


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _signed(key: int) -> int:
    """A uint64 article key as SQLite's signed 64-bit INTEGER."""
    return key - (1 << 64) if key >= 1 << 63 else key


class Subscriptions:
    """The state file, open; safe from several threads (one connection under a lock)."""

    def __init__(self, path: Path) -> None:
        """Open (creating or migrating) the state file at `path`.

        Raises:
            StateError: The file is of a newer schema, or not a database.
        """
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL under WAL: a commit survives a kill of the process (not a power cut).
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise StateError(f"cannot use the state file {path}: {exc}") from None

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()

    @property
    def version(self) -> int:
        """The schema version of the file."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.version
        if version > SCHEMA_VERSION:
            raise StateError(
                f"the state file {self.path} is of schema {version}, newer than this newsbot's "
                f"{SCHEMA_VERSION}; upgrade newsbot or set NEWSBOT_STATE_DB to another file"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self._transaction() as db:
                for statement in MIGRATIONS[target - 1].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {target}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and a write transaction (IMMEDIATE): committed, or rolled back."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            return list(self._db.execute(sql, params).fetchall())

    # -- standing questions ----------------------------------------------------------------------

    def follow(
        self,
        user_id: int,
        chat_id: int,
        text: str,
        terms: Sequence[str],
        vector: npt.NDArray[np.float32] | None,
    ) -> StandingQuestion:
        """Store a standing question for `user_id`.

        Raises:
            FollowLimitError: The user already follows `MAX_FOLLOWED`.
        """
        blob = None if vector is None else np.asarray(vector, dtype="<f4").tobytes()
        with self._transaction() as db:
            (count,) = db.execute(
                "SELECT COUNT(*) FROM standing WHERE user_id = ?", (user_id,)
            ).fetchone()
            if count >= MAX_FOLLOWED:
                raise FollowLimitError
            self._upsert_reader(db, user_id, chat_id)
            cursor = db.execute(
                "INSERT INTO standing (user_id, text, terms, vector, created) VALUES (?,?,?,?,?)",
                (user_id, text, json.dumps(list(terms)), blob, _iso(_now())),
            )
        return StandingQuestion(int(cursor.lastrowid or 0), user_id, text, tuple(terms), vector)

    @staticmethod
    def _upsert_reader(db: sqlite3.Connection, user_id: int, chat_id: int) -> None:
        db.execute(
            "INSERT INTO users (user_id, chat_id) VALUES (?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET chat_id = excluded.chat_id",
            (user_id, chat_id),
        )

    def following(self, user_id: int) -> list[StandingQuestion]:
        """Return the user's standing questions, oldest first (the numbers /following shows)."""
        rows = self._query(
            "SELECT id, user_id, text, terms, vector FROM standing WHERE user_id = ? ORDER BY id",
            (user_id,),
        )
        return [standing_of(row) for row in rows]

    def all_standing(self) -> list[StandingQuestion]:
        """Return every standing question, by id."""
        rows = self._query("SELECT id, user_id, text, terms, vector FROM standing ORDER BY id")
        return [standing_of(row) for row in rows]

    def unfollow(self, user_id: int, standing_id: int) -> StandingQuestion | None:
        """Remove one of the user's standing questions; None when it is not theirs (or gone)."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT id, user_id, text, terms, vector FROM standing "
                "WHERE id = ? AND user_id = ?",
                (standing_id, user_id),
            ).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM standing WHERE id = ?", (standing_id,))
            # Alerts of that question not yet out are no longer wanted.
            db.execute(
                "DELETE FROM alerts WHERE standing_id = ? AND state IN ('pending', 'held')",
                (standing_id,),
            )
        return standing_of(row)

    def forget(self, user_id: int) -> None:
        """Delete everything kept about `user_id`: questions, alerts, digest, time zone."""
        with self._transaction() as db:
            for table in ("standing", "alerts", "users"):
                db.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))

    # -- readers: time zones and digests ---------------------------------------------------------

    def reader(self, user_id: int) -> Reader | None:
        """Return what is kept about a user besides questions, if anything."""
        rows = self._query(
            "SELECT user_id, chat_id, timezone, digest_at, last_digest FROM users "
            "WHERE user_id = ?",
            (user_id,),
        )
        return reader_of(rows[0]) if rows else None

    def readers_with_digest(self) -> list[Reader]:
        """Return every user who set a digest time."""
        rows = self._query(
            "SELECT user_id, chat_id, timezone, digest_at, last_digest FROM users "
            "WHERE digest_at IS NOT NULL ORDER BY user_id"
        )
        return [reader_of(row) for row in rows]

    def set_timezone(self, user_id: int, chat_id: int, zone: str) -> None:
        """Keep the user's time zone (an IANA name already checked)."""
        with self._transaction() as db:
            self._upsert_reader(db, user_id, chat_id)
            db.execute("UPDATE users SET timezone = ? WHERE user_id = ?", (zone, user_id))

    def set_digest(self, user_id: int, chat_id: int, at: str | None, now: datetime) -> None:
        """Keep the user's digest time ("HH:MM"), or None; the next one covers from `now`."""
        with self._transaction() as db:
            self._upsert_reader(db, user_id, chat_id)
            db.execute(
                "UPDATE users SET digest_at = ?, last_digest = ? WHERE user_id = ?",
                (at, _iso(now), user_id),
            )

    def digest_sent(self, user_id: int, at: datetime) -> None:
        """Record that the user's digest went out at `at`."""
        with self._transaction() as db:
            db.execute("UPDATE users SET last_digest = ? WHERE user_id = ?", (_iso(at), user_id))

    # -- articles seen, and alerts ----------------------------------------------------------------

    def has_seen_any(self) -> bool:
        """Whether any article was ever recorded as seen (False: a new state file)."""
        return bool(self._query("SELECT 1 FROM seen LIMIT 1"))

    def unseen(self, keys: Sequence[int]) -> set[int]:
        """Return those of the article keys (uint64) never recorded as seen."""
        with self._lock:
            self._db.execute("CREATE TEMP TABLE IF NOT EXISTS probe (k INTEGER PRIMARY KEY)")
            self._db.execute("DELETE FROM probe")
            self._db.executemany(
                "INSERT OR IGNORE INTO probe VALUES (?)", ((_signed(k),) for k in keys)
            )
            rows = self._db.execute(
                "SELECT k FROM probe WHERE k NOT IN (SELECT article_key FROM seen)"
            ).fetchall()
            self._db.execute("DELETE FROM probe")
        return {k + (1 << 64) if k < 0 else k for (k,) in rows}

    def stories_of(self, keys: Sequence[int]) -> dict[int, str]:
        """Return the story recorded for each of the article keys seen before."""
        out: dict[int, str] = {}
        for key in keys:
            rows = self._query("SELECT story FROM seen WHERE article_key = ?", (_signed(key),))
            if rows:
                out[key] = str(rows[0][0])
        return out

    def record_matches(
        self,
        seen: dict[int, str],
        alerts: Sequence[NewAlert],
        per_hour: int,
        now: datetime | None = None,
    ) -> list[int]:
        """Mark articles seen (with their story) and record alerts, in one transaction.

        An alert for a story the user was already alerted to is dropped (the UNIQUE key): a copy
        of a story sends no second alert. Past `per_hour` alerts this clock hour (UTC), an
        alert is `held` for the hour's summary.

        Returns:
            The ids of the alerts recorded as pending (to send now).
        """
        now = now or _now()
        hour = _iso(now.replace(minute=0, second=0, microsecond=0))
        pending: list[int] = []
        with self._transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO seen (article_key, story) VALUES (?, ?)",
                ((_signed(k), s) for k, s in seen.items()),
            )
            for alert in alerts:
                chat = db.execute(
                    "SELECT chat_id FROM users WHERE user_id = ?", (alert.user_id,)
                ).fetchone()
                if chat is None:
                    continue
                (this_hour,) = db.execute(
                    "SELECT COUNT(*) FROM alerts WHERE user_id = ? AND created >= ? "
                    "AND state IN ('pending', 'sent')",
                    (alert.user_id, hour),
                ).fetchone()
                state: AlertState = "pending" if this_hour < per_hour else "held"
                cursor = db.execute(
                    "INSERT OR IGNORE INTO alerts (user_id, chat_id, standing_id, story, title, "
                    "url, body, state, created) VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        alert.user_id,
                        chat[0],
                        alert.standing_id,
                        alert.story,
                        alert.title,
                        alert.url,
                        alert.body,
                        state,
                        _iso(now),
                    ),
                )
                if cursor.rowcount and state == "pending":
                    pending.append(int(cursor.lastrowid or 0))
        return pending

    def alerts(self, state: AlertState, user_id: int | None = None) -> list[Alert]:
        """Return the alerts in `state` (of one user when given), oldest first."""
        sql = (
            "SELECT id, user_id, chat_id, standing_id, story, title, url, body, state, created "
            "FROM alerts WHERE state = ?"
        )
        params: list[object] = [state]
        if user_id is not None:
            sql += " AND user_id = ?"
            params.append(user_id)
        return [alert_of(row) for row in self._query(sql + " ORDER BY id", params)]

    def mark(self, alert_ids: Sequence[int], state: AlertState) -> None:
        """Move alerts to `state` (sent: Telegram accepted it)."""
        with self._transaction() as db:
            db.executemany(
                "UPDATE alerts SET state = ?, sent = ? WHERE id = ?",
                ((state, _iso(_now()), i) for i in alert_ids),
            )
