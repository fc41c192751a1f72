"""Rendering answers as Telegram HTML: escaping, highlighting, the 4096-character limit."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import render
from index.answers import excerpts
from index.model import Answer, Article

ALLOWED_TAGS = {"b", "i", "a"}


class TagBalance(HTMLParser):
    """Fails on tags Telegram would not accept from us, or on unbalanced ones."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in ALLOWED_TAGS, tag
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, tag


def assert_valid(fragment: str) -> None:
    parser = TagBalance()
    parser.feed(fragment)
    parser.close()
    assert parser.stack == []


def answer(passage: str, title: str = "Title", url: str | None = "https://example.org/a") -> Answer:
    article = Article(id="a1", title=title, text="", source="Outlet", date="2026-02-06", url=url)
    return Answer(sentence=passage, passage=passage, score=1.0, article=article)


def test_highlight_escapes_and_bolds_matched_words() -> None:
    got = render.highlight("<b>Trade</b> & tariffs rose", lambda w: w.lower() == "trade")
    assert got == "&lt;b&gt;<b>Trade</b>&lt;/b&gt; &amp; tariffs rose"


def test_highlight_keeps_numbers_whole() -> None:
    got = render.highlight("reached $228.1 billion", lambda w: w == "228.1")
    assert got == "reached $<b>228.1</b> billion"


def test_shorten_cuts_at_a_word_and_marks_it() -> None:
    assert excerpts.shorten("one two three four five", 12) == "one two…"
    assert excerpts.shorten("short", 12) == "short"


def test_visible_length_counts_utf16_units_like_telegram() -> None:
    assert excerpts.visible_length("a😀") == 3


def test_source_links_http_urls_only_and_escapes_them() -> None:
    linked = render.source_html(answer("x", url='https://e.org/?a=1&b="2"').article)
    assert '<a href="https://e.org/?a=1&amp;b=&quot;2&quot;">Title</a>' in linked
    plain = render.source_html(answer("x", url="javascript:alert(1)").article)
    assert "<a" not in plain
    assert "6 Feb 2026" in plain


def test_hostile_article_text_is_escaped() -> None:
    hostile = answer("<script>alert('x')</script> &amp; </b>", title="<i>Bad</i> & title")
    body, shown = render.answers_html("<b>q</b>", [hostile], lambda w: False)
    assert shown == 1
    assert "&lt;script&gt;" in body
    assert "&lt;i&gt;Bad&lt;/i&gt; &amp; title" in body
    assert_valid(body)


@settings(max_examples=150, deadline=None)
@given(
    passages=st.lists(st.text(min_size=0, max_size=3000), min_size=1, max_size=6),
    question=st.text(max_size=5000),
    title=st.text(max_size=500),
)
def test_any_answers_fit_one_message_and_parse(
    passages: list[str], question: str, title: str
) -> None:
    answers = [answer(p, title=title) for p in passages]
    body, shown = render.answers_html(question, answers, lambda w: len(w) % 2 == 0)
    assert 1 <= shown <= len(answers)
    assert excerpts.visible_length(render.html_text(body)) <= render.MESSAGE_LIMIT
    assert_valid(body)


def test_fit_drops_whole_lines_to_the_limit() -> None:
    lines = "\n".join(f"• <b>line {i}</b> " + "x" * 100 for i in range(100))
    fitted = render.fit(lines)
    assert excerpts.visible_length(render.html_text(fitted)) <= render.MESSAGE_LIMIT
    assert fitted.endswith("\n…")
    assert_valid(fitted)


SENTENCE = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=15,
).map(lambda word: word + ".")
SENTENCES = st.lists(
    st.lists(SENTENCE, min_size=1, max_size=40).map(" ".join), min_size=1, max_size=12
)


@settings(max_examples=300, deadline=None)
@given(SENTENCES, st.data(), st.integers(min_value=40, max_value=900))
def test_a_shown_passage_fits_and_keeps_its_best_sentence(
    sentences: list[str], data: st.DataObject, limit: int
) -> None:
    best = data.draw(st.sampled_from(sentences))
    answer = Answer(best, " ".join(sentences), 1.0, Article("a", "Title", ""))
    shown = excerpts.shown_passage(answer, limit)
    assert excerpts.visible_length(shown) <= limit
    passage = " ".join(answer.passage.split())
    if excerpts.visible_length(passage) <= limit:
        assert shown == passage
    elif excerpts.visible_length(best) + 2 < limit:
        assert best in shown  # the answer is never what the cut hides
        pieces = shown.split(best, 1)
        assert passage.find(best) >= 0 and pieces[0].strip(" …") in passage
    else:  # no room for context: the best sentence alone, cut only if it must be
        assert shown == excerpts.shorten(best, limit)


def test_a_long_passage_is_cut_around_its_best_sentence() -> None:
    context = " ".join(f"Context sentence number {i} says little." for i in range(40))
    best = "The council passed the budget by nine votes to two."
    answer = Answer(best, f"{context} {best} {context}", 1.0, Article("a", "Title", ""))
    shown = excerpts.shown_passage(answer, 300)
    assert best in shown and shown.startswith("…") and shown.endswith("…")
    assert excerpts.visible_length(shown) <= 300
    # Cut at its end, as before, the best sentence would have been hidden.
    assert best not in excerpts.shorten(answer.passage, 300)
