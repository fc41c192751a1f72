"""The state file (`bot.subscriptions`): schema versions, transactions, at-least-once alerts."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from bot.state_records import NewAlert
from bot.subscriptions import SCHEMA_VERSION, FollowLimitError, StateError, Subscriptions


def test_a_new_file_is_created_at_the_current_schema_in_wal_mode(tmp_path: Path) -> None:
    store = Subscriptions(tmp_path / "deep" / "state.sqlite3")
    assert store.version == SCHEMA_VERSION
    with sqlite3.connect(tmp_path / "deep" / "state.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_file_of_a_newer_schema_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StateError, match="newer than this newsbot's"):
        Subscriptions(path)


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StateError, match="cannot use the state file"):
        Subscriptions(path)


def test_questions_survive_reopening_with_their_vectors(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    vector = np.linspace(-1, 1, 384, dtype=np.float32)
    Subscriptions(path).follow(7, 7, "copper prices in Chile", ("copper", "price", "chile"), vector)
    (question,) = Subscriptions(path).following(7)
    assert question.terms == ("copper", "price", "chile")
    assert question.vector is not None and np.array_equal(question.vector, vector)


def test_a_failed_transaction_changes_nothing(tmp_path: Path) -> None:
    store = Subscriptions(tmp_path / "state.sqlite3")
    for n in range(20):
        store.follow(7, 7, f"q{n}", ("q",), None)
    with pytest.raises(FollowLimitError):
        store.follow(7, 7, "one more", ("q",), None)
    assert len(store.following(7)) == 20


def test_alerts_are_once_per_user_and_story_and_capped_per_hour(tmp_path: Path) -> None:
    store = Subscriptions(tmp_path / "state.sqlite3")
    q = store.follow(7, 70, "ferry strike", ("ferri", "strike"), None)
    at = datetime(2026, 2, 11, 9, 30, tzinfo=UTC)
    alerts = [NewAlert(7, q.id, f"story-{n}", f"T{n}", None, f"body {n}") for n in range(3)]
    pending = store.record_matches({1: "story-0", 2**64 - 1: "story-1"}, alerts, 2, at)
    assert len(pending) == 2
    assert [a.state for a in store.alerts("held")] == ["held"]
    again = store.record_matches({}, [NewAlert(7, q.id, "story-0", "T", None, "copy")], 2, at)
    assert again == []  # a copy of a story sends no second alert
    assert store.unseen([1, 2, 2**64 - 1]) == {2}
    assert store.stories_of([2**64 - 1]) == {2**64 - 1: "story-1"}
    store.mark(pending, "sent")
    # Reopened (as after a kill -9), nothing pending is lost.
    reopened = Subscriptions(tmp_path / "state.sqlite3")
    assert [a.chat_id for a in reopened.alerts("sent")] == [70, 70]


def test_forget_deletes_everything_about_a_user(tmp_path: Path) -> None:
    store = Subscriptions(tmp_path / "state.sqlite3")
    q = store.follow(7, 7, "ferry strike", ("ferri",), None)
    store.follow(8, 8, "copper", ("copper",), None)
    store.set_timezone(7, 7, "Europe/Berlin")
    store.record_matches({}, [NewAlert(7, q.id, "s", "T", None, "b")], 6)
    store.forget(7)
    assert store.following(7) == [] and store.reader(7) is None and store.alerts("pending") == []
    assert [x.text for x in store.following(8)] == ["copper"]
