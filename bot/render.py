"""Every reply as Telegram HTML: escaped, highlighted, sourced, and always within 4096 characters.

The bot's texts (`bot.texts`) are plain; this module is the only one that writes HTML. Telegram
counts a message's length after parsing the HTML, in UTF-16 code units, so lengths here
are measured on the visible text the same way.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

from bot import texts
from bot.newsroom import RebuildResult, duration_text
from bot.refresh import SourceStatus
from index.answers.excerpts import shorten, shown_passage, visible_length
from index.model import Answer, Article, Findings, counted
from index.sources.feedschedule import FeedEvent
from index.text.names import listed

MESSAGE_LIMIT = 4096
TITLE_LIMIT = 160
QUESTION_LIMIT = 120

Matcher = Callable[[str], bool]

# Words as a reader sees them; each is analyzed to decide whether it matched the question.
_WORD = re.compile(r"\w+(?:[.,'’]\w+)*")


class Html(str):
    """A string that is already HTML: `fill` inserts it as it is."""


def plain(text: str) -> str:
    """Return plain `text` as HTML."""
    return html.escape(text, quote=False)


def fill(template: str, **values: str) -> str:
    """Return a plain-text template as HTML, its fields filled (escaped unless `Html`)."""
    return plain(template).format(
        **{
            name: value if isinstance(value, Html) else plain(value)
            for name, value in values.items()
        }
    )


def highlight(text: str, is_match: Matcher) -> str:
    """Escape `text` for HTML and wrap the words `is_match` accepts in <b>."""
    out: list[str] = []
    last = 0
    for word in _WORD.finditer(text):
        out.append(html.escape(text[last : word.start()], quote=False))
        escaped = html.escape(word.group(), quote=False)
        out.append(f"<b>{escaped}</b>" if is_match(word.group()) else escaped)
        last = word.end()
    out.append(html.escape(text[last:], quote=False))
    return "".join(out)


def format_date(value: str | None) -> str | None:
    """Return '6 Feb 2026' for an ISO date, the value itself otherwise."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10]).strftime("%-d %b %Y")
    except ValueError:
        return value[:40]


def source_html(article: Article) -> str:
    """Return the source line: linked title, outlet, date."""
    title = html.escape(shorten(article.title or texts.UNTITLED, TITLE_LIMIT), quote=False)
    if article.url and article.url.startswith(("http://", "https://")):
        title = f'<a href="{html.escape(article.url, quote=True)}">{title}</a>'
    parts = [title]
    if article.source:
        parts.append(html.escape(shorten(article.source, 60), quote=False))
    when = format_date(article.date)
    if when:
        parts.append(html.escape(when, quote=False))
    return "📰 " + " · ".join(parts)


def answer_html(answer: Answer, is_match: Matcher, number: int | None = None) -> str:
    """Return one answer: the passage with matched words in bold, then its source."""
    passage = highlight(shown_passage(answer), is_match)
    prefix = f"<b>{number}.</b> " if number is not None else ""
    return f"{prefix}{passage}\n{source_html(answer.article)}"


def answers_html(
    question: str,
    answers: Sequence[Answer],
    is_match: Matcher,
    *,
    first_number: int = 1,
    note: str | None = None,
    also: Sequence[Sequence[Article]] = (),
) -> tuple[str, int]:
    """Return a message with as many of `answers` as fit, and how many fit (at least one).

    `note`, plain text, is shown under the question; `also[i]`, the other outlets' copies of
    answer i's story, on an "also reported by" line under it.
    """
    header = f"🔎 <i>{html.escape(shorten(question, QUESTION_LIMIT), quote=False)}</i>"
    if note:
        header += f"\n{html.escape(note, quote=False)}"
    blocks = [header]
    used = visible_length(html_text(header))
    shown = 0
    for n, answer in enumerate(answers, first_number):
        block = answer_html(answer, is_match, n)
        copies = also[n - first_number] if n - first_number < len(also) else ()
        if copies:
            block += "\n" + also_html(copies)
        size = visible_length(html_text(block)) + 2
        if used + size > MESSAGE_LIMIT and shown:
            break
        blocks.append(block)
        used += size
        shown += 1
    return "\n\n".join(blocks), shown


def findings_note(found: Findings) -> str | None:
    """Return the plain note shown under the question: weak matches, the period asked about.

    Passages shown though names of the question are missing from every article (`closest`, or
    weak matches) carry the caveat that names them instead of the weak-match note.
    """
    notes = []
    if found.missing_names:
        notes.append(texts.MISSING_NAMES_NOTE.format(names=listed(found.missing_names)))
    elif found.weak:
        notes.append(texts.CLOSEST_NOTE)
    if found.period is not None:
        template = (
            texts.ELSEWHERE_NOTE
            if found.elsewhere
            else texts.HEADLINES_NOTE
            if found.headlines
            else texts.PERIOD_NOTE
        )
        notes.append(template.format(period=found.period.label()))
    return "\n".join(notes) or None


def nothing_found(found: Findings) -> str:
    """Return the reply, as HTML, when nothing answers: in the period asked about, or why not."""
    if found.period is not None:
        return fill(texts.NOTHING_IN_PERIOD, period=found.period.label())
    if found.missing_names:
        return fill(texts.NOTHING_MENTIONS, names=listed(found.missing_names))
    return plain(texts.NOTHING_FOUND)


def html_text(fragment: str) -> str:
    """Return the visible text of an HTML fragment made by this module."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def fit(lines_html: str, limit: int = MESSAGE_LIMIT) -> str:
    """Drop whole lines from the end of an HTML message until its visible text fits `limit`.

    Each line must be balanced HTML on its own, as every line this module makes is.
    """
    lines = lines_html.split("\n")
    if visible_length(html_text(lines_html)) <= limit:
        return lines_html
    while len(lines) > 1 and visible_length(html_text("\n".join([*lines, "…"]))) > limit:
        lines.pop()
    if len(lines) == 1 and visible_length(html_text(lines[0])) > limit:
        return html.escape(shorten(html_text(lines[0]), limit), quote=False)
    return "\n".join([*lines, "…"])


def format_time(moment: datetime | None, never: str = texts.FEED_NEVER) -> str:
    """Return '12 Feb 2026 14:05 UTC' for an aware datetime, `never` for None."""
    if moment is None:
        return never
    return moment.astimezone(UTC).strftime("%-d %b %Y %H:%M UTC")


def freshness_html(newest: str | None, refreshed: datetime | None) -> str:
    """Return how fresh the index is: its newest article's date and the last refresh."""
    return fill(
        texts.FRESHNESS,
        newest=format_date(newest) or texts.FRESHNESS_UNDATED,
        refreshed=format_time(refreshed, texts.FRESHNESS_NEVER),
    )


def start_html(
    first_name: str | None, n_articles: int, headlines: Sequence[str], freshness: str = ""
) -> str:
    """Return the greeting: how to ask, an example, and the newest headlines to ask about.

    `freshness` (HTML, see `freshness_html`) goes under the headlines.
    """
    greeting = fill(texts.GREETING, name=first_name or texts.GREETING_STRANGER)
    if n_articles == 0:
        return greeting + plain(texts.NO_INDEX)
    newest = ""
    if headlines:
        lines = [plain(texts.NEWEST_HEADLINES)]
        lines += [f"• {plain(shorten(title, 90))}" for title in headlines]
        newest = "\n".join(lines) + "\n\n"
    if freshness:
        newest += freshness + "\n\n"
    return greeting + fill(
        texts.START,
        example=Html(f"<i>{plain(texts.START_EXAMPLE)}</i>"),
        articles=counted(n_articles, "indexed article"),
        newest=Html(newest),
    )


def help_html(username: str) -> str:
    """Return what the bot does and its commands."""
    return fill(texts.HELP, username=username)


def sources_html(
    n_articles: int,
    n_sentences: int,
    created: str,
    articles: Sequence[Article],
    freshness: str = "",
) -> str:
    """Return a page of the /sources list: the index's size, freshness, one article a line."""
    header = fill(
        texts.SOURCES_HEADER,
        articles=Html(f"<b>{counted(n_articles, 'article')}</b>"),
        sentences=counted(n_sentences, "sentence"),
        created=created,
    )
    lines = [header, freshness] if freshness else [header]
    return "\n".join([*lines, *("• " + source_html(a).removeprefix("📰 ") for a in articles)])


def latest_html(topic: str, articles: Sequence[Article]) -> str:
    """Return the newest headlines (on `topic` when given), one linked source line each."""
    shown = shorten(topic, QUESTION_LIMIT)
    if not articles:
        return fill(texts.LATEST_NOTHING, topic=Html(f"<i>{plain(shown)}</i>"))
    header = (
        fill(texts.LATEST_TOPIC_HEADER, topic=Html(f"<i>{plain(shown)}</i>"))
        if topic
        else plain(texts.LATEST_HEADER)
    )
    return fit("\n".join([header, *("• " + source_html(a).removeprefix("📰 ") for a in articles)]))


def feeds_pages(
    statuses: Sequence[SourceStatus],
    articles: Sequence[int],
    interval: float,
    per_page: int = 10,
) -> list[str]:
    """Return /feeds as messages of `per_page` sources: each with its health and schedule.

    Args:
        statuses: The sources, in order.
        articles: Indexed articles per source, in the same order.
        interval: The refresh interval, seconds.
        per_page: Sources per message.
    """
    blocks = [_source_block(s, n) for s, n in zip(statuses, articles, strict=True)]
    pages = [blocks[i : i + per_page] for i in range(0, len(blocks), per_page)] or [[]]
    header = fill(
        texts.FEEDS_HEADER,
        count=counted(len(statuses), "source"),
        interval=duration_text(interval),
    )
    out = []
    for number, page in enumerate(pages, 1):
        head = header
        if len(pages) > 1:
            head += " " + plain(texts.FEEDS_PAGE.format(page=number, pages=len(pages)))
        out.append(fit("\n\n".join([head, *page])))
    return out


def _source_block(status: SourceStatus, articles: int) -> str:
    """Return one source of /feeds: its name, then one line per fact."""
    icon = "📡" if status.kind == "feed" else "📁"
    lines = [f"{icon} <b>{plain(shorten(status.source, 200))}</b>"]
    facts = [
        fill(texts.FEED_LAST_SUCCESS, when=format_time(status.last_success)),
        fill(texts.FEED_ARTICLES, articles=counted(articles, "article")),
        fill(texts.FEED_NEXT_CHECK, when=format_time(status.next_check)),
    ]
    if status.last_error is not None:
        error = shorten(status.last_error, 200)
        facts.insert(
            1, fill(texts.FEED_LAST_ERROR, when=format_time(status.last_error_at), error=error)
        )
    lines += [f"  {fact}" for fact in facts]
    return "\n".join(lines)


def retired_html(sources: Sequence[str], articles: Sequence[int]) -> str:
    """Return /feeds' list of the sources no longer configured, with their indexed articles."""
    lines = [plain(texts.FEEDS_RETIRED)]
    lines += [
        fill(texts.FEED_RETIRED, source=shorten(source, 200), articles=counted(n, "article"))
        for source, n in zip(sources, articles, strict=True)
    ]
    return fit("\n".join(lines))


def feed_event_html(event: FeedEvent) -> str:
    """Return the admins' message for a feed that has been failing for a day, or recovered."""
    since = format_time(event.since)
    if event.kind == "failing":
        error = shorten(event.error or "", 300)
        return fill(texts.FEED_FAILING, url=event.url, since=since, error=error)
    return fill(texts.FEED_RECOVERED, url=event.url, since=since)


def update_failed_html(result: RebuildResult) -> str:
    """Return the admins' message for a scheduled update that failed (not retried as it is)."""
    return fill(texts.UPDATE_FAILED, reason=shorten(result.summary, 500))


def rebuild_html(result: RebuildResult, still_serving: str) -> str:
    """Return how a rebuild ended: counts, unreadable sources and skipped items, or why it failed.

    For an admin's private chat only: it names sources and files as configured.
    """
    if result.ok:
        done = texts.REBUILT if result.committed else texts.REBUILT_UNCHANGED
        lines = [fill(done, summary=result.summary)]
        lines += [
            fill(texts.REBUILT_FAILED_SOURCE, source=shorten(s, 200))
            for s in result.failed_sources[:10]
        ]
        lines += [fill(texts.REBUILT_SKIPPED, item=shorten(i, 200)) for i in result.skipped[:10]]
        if len(result.skipped) > 10:
            lines.append(plain(texts.REBUILT_MORE_SKIPPED.format(count=len(result.skipped) - 10)))
    else:
        lines = [
            fill(texts.REBUILD_FAILED, reason=shorten(result.summary, 500)),
            fill(texts.STILL_SERVING, still=still_serving),
        ]
    return fit("\n".join(lines))


def alert_html(question: str, answer: Answer, is_match: Matcher, also: Sequence[Article]) -> str:
    """Return an alert: the standing question, the answering passage and its source, as asked.

    `also`: other outlets' copies of the story, linked on an "also reported by" line.
    """
    header = fill(texts.ALERT_HEADER, question=shorten(question, QUESTION_LIMIT))
    body = f"{header}\n\n{answer_html(answer, is_match)}"
    if also:
        body += "\n" + also_html(also)
    return fit(body)


def also_html(articles: Sequence[Article]) -> str:
    """Return the "also reported by" line: each copy's outlet (or title), linked."""
    outlets = []
    for article in articles:
        name = html.escape(shorten(article.source or article.title or texts.UNTITLED, 60), False)
        if article.url and article.url.startswith(("http://", "https://")):
            name = f'<a href="{html.escape(article.url, quote=True)}">{name}</a>'
        outlets.append(name)
    return fill(texts.ALSO_REPORTED, outlets=Html(", ".join(outlets)))


def following_html(questions: Sequence[str]) -> str:
    """Return /following: the user's standing questions, numbered."""
    if not questions:
        return plain(texts.FOLLOWING_NONE)
    lines = [plain(texts.FOLLOWING_HEADER)]
    lines += [f"{n}. {plain(shorten(q, QUESTION_LIMIT))}" for n, q in enumerate(questions, 1)]
    return fit("\n".join(lines))


def held_summary_html(titles: Sequence[tuple[str, str | None]]) -> str:
    """Return the end-of-hour summary of the alerts over the hourly cap: linked headlines."""
    lines = [fill(texts.HELD_SUMMARY, count=str(len(titles)))]
    for title, url in titles:
        text = html.escape(shorten(title or texts.UNTITLED, TITLE_LIMIT), quote=False)
        if url and url.startswith(("http://", "https://")):
            text = f'<a href="{html.escape(url, quote=True)}">{text}</a>'
        lines.append(f"• {text}")
    return fit("\n".join(lines))


def digest_html(stories: Sequence[tuple[str, str | None]], followed: bool) -> str:
    """Return a digest: the stories matched for what the user follows, or the newest ones."""
    if followed and not stories:
        return plain(texts.DIGEST_NOTHING_NEW)
    header = (
        fill(
            texts.DIGEST_FOLLOWED,
            count=f"{len(stories)} new stor{'y' if len(stories) == 1 else 'ies'}",
        )
        if followed
        else plain(texts.DIGEST_NEWEST)
    )
    lines = [header]
    for title, url in stories:
        text = html.escape(shorten(title or texts.UNTITLED, TITLE_LIMIT), quote=False)
        if url and url.startswith(("http://", "https://")):
            text = f'<a href="{html.escape(url, quote=True)}">{text}</a>'
        lines.append(f"• {text}")
    return fit("\n".join(lines))
