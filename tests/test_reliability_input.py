"""Bad input through the bot: generated messages over the loopback Bot API, one reply each.

Issue #5, "bad input". Hypothesis writes the users' messages (any Unicode: RTL, zero-width and
bidi controls, stacked combining marks, emoji sequences, control characters; 4096-character
messages; HTML and Markdown specials; only stopwords; only punctuation) and sends them to the
real `Application` in private chats, as `/ask` and as mentions in a group, and as inline queries.
Every message must get exactly one reply the strict fake accepted (its HTML parses, it is at most
4096 UTF-16 units, it is not the apology for an error), and the bot must keep answering.

The bot runs once per test on the fake server's own loop (`FakeTelegramThread`), so that the
property itself is an ordinary synchronous hypothesis test and each example reuses the bot.
Each example is a new user: the flood guard is per user and is tested in `test_security.py`.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.texts import SORRY
from index.store.build import build_index
from index.text.analysis import ENGLISH_STOPWORDS
from tests.conftest import SEED_QUESTION, SEEDS
from tests.fake_telegram import FakeTelegramThread, Message
from tests.fake_telegram_html import MESSAGE_LIMIT, utf16_len
from tests.harness import RunningBot, bot_settings, running_bot

pytestmark = [pytest.mark.process, pytest.mark.slow]

EXAMPLES = 300
BOT_MENTION = "@newsbot_test_bot"

# -- what users may type ---------------------------------------------------------------------

_SEED_WORDS = sorted(set((SEEDS / "000_00f4f1af09a5d285.txt").read_text().split()))
_ZERO_WIDTH_AND_BIDI = list(
    "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad\u034f\u061c"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_EMOJI = [
    "😀", "👍🏽", "👨\u200d👩\u200d👧\u200d👦", "🏳️\u200d🌈", "🇺🇦", "🇨🇳", "❤️", "1️⃣",
    "🧑🏿\u200d🚀", "🫠", "\U0001f9d1\u200d\U0001f4bb",
    "\U000e0067",  # a lone tag character
]  # fmt: skip
_HTML = [
    "<", ">", "&", '"', "'", "<b>", "</b>", "<i>unclosed", "</a>", "<a href='javascript:x'>",
    "<script>alert(1)</script>", "&amp;", "&lt;", "&#0;", "&#x110000;", "&bogus;", "&", "<br/>",
    "<tg-spoiler>", "<pre><code class='x'>", "<!--", "]]>", "<<>>",
]  # fmt: skip
_MARKDOWN = [
    "*", "_", "`", "```", "[", "]", "(", ")", "~", "||", "#", "+", "-", "=", "|", "{", "}",
    ".", "!", "\\", "**bold**", "__x__", "[link](http://x)", "`code`", "> quote",
]  # fmt: skip

_rtl = st.text(st.characters(min_codepoint=0x0590, max_codepoint=0x08FF), min_size=1, max_size=12)
_combining = st.text(st.characters(min_codepoint=0x0300, max_codepoint=0x036F), max_size=12)
_controls = st.text(st.characters(categories=("Cc", "Cf", "Zl", "Zp")), min_size=1, max_size=4)
_pieces = st.one_of(
    st.text(min_size=1, max_size=24),  # anything but surrogates
    _rtl,
    st.sampled_from(_ZERO_WIDTH_AND_BIDI),
    st.tuples(st.sampled_from(_SEED_WORDS), _combining).map("".join),  # "zalgo" words
    st.sampled_from(_EMOJI),
    _controls,
    st.sampled_from(_HTML),
    st.sampled_from(_MARKDOWN),
    st.sampled_from(sorted(ENGLISH_STOPWORDS)),
    st.sampled_from(_SEED_WORDS),
)
_mixed = st.lists(_pieces, min_size=1, max_size=16).flatmap(
    lambda parts: st.sampled_from([" ", "", "\n", "\u00a0"]).map(lambda sep: sep.join(parts))
)
_stopwords_only = st.lists(st.sampled_from(sorted(ENGLISH_STOPWORDS)), min_size=1, max_size=20).map(
    " ".join
)
_punctuation_only = st.text(st.characters(categories=("P", "S")), min_size=1, max_size=60)


def fill(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Repeat `text` up to exactly `limit` UTF-16 units (or one unit less, for a wide char)."""
    out: list[str] = []
    used = 0
    for char in itertools.cycle(text):
        width = utf16_len(char)
        if used + width > limit:
            break
        out.append(char)
        used += width
    return "".join(out)


_long = st.one_of(_mixed, _punctuation_only, _stopwords_only).map(fill)
_command_like = st.tuples(
    st.sampled_from(["/", "/ask ", "/start", "/reindex", "/sources ", "/help@other_bot ", "/x_"]),
    _mixed,
).map("".join)

MESSAGES = st.one_of(_mixed, _stopwords_only, _punctuation_only, _long, _command_like, st.text())


def as_telegram_delivers(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Trim like Telegram; cut to `limit` UTF-16 units; reject what Telegram would not send."""
    text = text.strip()
    if utf16_len(text) > limit:
        text = fill(text, limit).strip()
    assume(text)
    return text


# -- the bot, on the fake's loop in a thread -------------------------------------------------


@contextmanager
def bot_in_thread(index_dir: Path) -> Iterator[tuple[FakeTelegramThread, RunningBot]]:
    """Start the fake Bot API and the real bot on one loop in a thread; stop both afterwards."""
    with FakeTelegramThread() as fake:
        session = running_bot(fake.server, bot_settings(fake.server, index_dir, [SEEDS]))
        running = fake.run(session.__aenter__(), timeout=60)
        try:
            yield fake, running
        finally:
            fake.run(session.__aexit__(None, None, None), timeout=60)


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reliability-input") / "index"
    build_index([SEEDS], folder)
    return folder


def assert_accepted(fake: FakeTelegramThread, reply: Message) -> None:
    """The reply is one Telegram accepted: stored by the strict fake, in bounds, not an apology."""
    assert reply.text is not None and reply.text.strip()
    assert utf16_len(reply.text) <= MESSAGE_LIMIT
    assert reply.text != SORRY
    rejected = [c for c in fake.server.calls_to("sendMessage") if c.status != 200]
    assert not rejected, [(c.status, c.response) for c in rejected]


def assert_still_answers(fake: FakeTelegramThread, user: int) -> None:
    fake.run(fake.server.send_text(user, SEED_QUESTION))
    (reply,) = fake.run(fake.server.wait_for_messages(user, 1, timeout=10))
    assert "228.1" in (reply.text or "")


def settle(fake: FakeTelegramThread, seconds: float = 0.5) -> None:
    """Give late (duplicate) replies a chance to show before counting."""
    time.sleep(seconds)
    fake.run(fake.server.wait_until(lambda: True))


# -- the properties --------------------------------------------------------------------------


def test_every_private_message_gets_exactly_one_acceptable_reply(seed_index: Path) -> None:
    users = itertools.count(10_000)
    asked: list[int] = []
    with bot_in_thread(seed_index) as (fake, _):

        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
        )
        @given(raw=MESSAGES)
        def one_message(raw: str) -> None:
            text = as_telegram_delivers(raw)
            user = next(users)
            fake.run(fake.server.send_text(user, text))
            (reply,) = fake.run(fake.server.wait_for_messages(user, 1, timeout=10))
            assert_accepted(fake, reply)
            asked.append(user)
            if len(asked) % 50 == 0:
                assert_still_answers(fake, next(users))

        one_message()
        settle(fake)
        counts = {user: len(fake.server.chats[user].bot_messages) for user in asked}
        assert set(counts.values()) == {1}, {u: n for u, n in counts.items() if n != 1}
        assert_still_answers(fake, next(users))
    print(f"private messages tried: {len(asked)}")
    assert len(asked) >= EXAMPLES // 2


def test_every_group_ask_and_mention_gets_exactly_one_reply_to_it(seed_index: Path) -> None:
    # A new group per message: Telegram (and PTB's AIORateLimiter) allow 20 messages a minute
    # per group, which would turn this test into a wait.
    groups = itertools.count(-7_000_000, -1)
    asked: list[int] = []
    with bot_in_thread(seed_index) as (fake, _):

        @settings(
            max_examples=EXAMPLES // 2,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(raw=MESSAGES, how=st.sampled_from(["/ask ", BOT_MENTION + " "]))
        def one_message(raw: str, how: str) -> None:
            text = as_telegram_delivers(how + raw)
            group = next(groups)
            message_id = fake.server.add_chat(group).next_message_id
            fake.run(fake.server.send_text(group, text, user_id=-group))
            (reply,) = fake.run(fake.server.wait_for_messages(group, 1, timeout=10))
            assert reply.reply_to_message_id == message_id
            assert_accepted(fake, reply)
            asked.append(group)

        one_message()
        settle(fake)
        counts = {group: len(fake.server.chats[group].bot_messages) for group in asked}
        assert set(counts.values()) == {1}, {g: n for g, n in counts.items() if n != 1}
    print(f"group messages tried: {len(asked)}")
    assert len(asked) >= EXAMPLES // 4


def test_every_inline_query_is_answered_with_acceptable_results(seed_index: Path) -> None:
    users = itertools.count(30_000)
    updates: list[int] = []
    with bot_in_thread(seed_index) as (fake, _):

        @settings(
            max_examples=EXAMPLES // 3,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(raw=MESSAGES)
        def one_query(raw: str) -> None:
            query = fill(raw.strip(), 256) if raw.strip() else ""  # inline queries: 256 max
            update = fake.run(fake.server.send_inline_query(next(users), query))
            fake.run(fake.server.wait_until(lambda: update in fake.server.inline_answers))
            updates.append(update)

        one_query()
        settle(fake)
        answers = fake.server.calls_to("answerInlineQuery")
        assert [c.status for c in answers] == [200] * len(updates)
        assert sorted(fake.server.inline_answers) == sorted(updates)
    print(f"inline queries tried: {len(updates)}")
