"""HTML pages (trafilatura) and HTML fragments such as feed summaries (lxml)."""

from __future__ import annotations

import lxml.etree
import lxml.html
import trafilatura

from index.sources.formats.dates import normalize_date
from index.sources.formats.records import Draft, Parsed, Problem, first_line
from index.sources.formats.text import headline, one_line, one_line_or_none, paragraphs, scrub


def parse_html(text: str) -> Parsed:
    """Article text and metadata (title, date, canonical URL, site name) by trafilatura."""
    try:
        document = trafilatura.bare_extraction(
            scrub(text),
            with_metadata=True,
            include_comments=False,
            date_extraction_params={"extensive_search": True, "original_date": True},
        )
    except Exception as exc:  # lxml and trafilatura raise assorted errors on broken markup
        yield Problem(None, f"HTML could not be parsed ({first_line(exc)})")
        return
    body = paragraphs(getattr(document, "text", None) or "", unwrap=False)
    if not body:
        yield Problem(None, "no article text found in the HTML")
        return
    title = one_line(getattr(document, "title", None) or "")
    first, _, rest = body.partition("\n")
    if title and first.casefold() == title.casefold() and rest:
        body = rest
    site = getattr(document, "sitename", None) or getattr(document, "hostname", None)
    yield Draft(
        title=title or headline(body),
        text=body,
        source=one_line(site) if isinstance(site, str) and site.strip() else None,
        date=normalize_date(getattr(document, "date", None)),
        url=one_line_or_none(getattr(document, "url", None)),
    )


def html_to_text(fragment: str) -> str:
    """Return the text of an HTML fragment (a feed summary), one paragraph per block element."""
    fragment = scrub(fragment)
    if not fragment.strip():
        return ""
    try:
        tree = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ValueError, lxml.etree.ParserError):  # e.g. an XML declaration in a str
        try:
            parser = lxml.html.HTMLParser(encoding="utf-8")
            tree = lxml.html.fragment_fromstring(
                fragment.encode("utf-8"), create_parent="div", parser=parser
            )
        except (ValueError, lxml.etree.ParserError):
            return ""
    for junk in list(tree.iter("script", "style")):
        junk.drop_tree()
    for element in tree.iter():
        # Newlines inside HTML text are spaces (except in <pre>); blocks make paragraphs.
        keep = element.tag == "pre" or any(a.tag == "pre" for a in element.iterancestors())
        if element.text and not keep:
            element.text = element.text.replace("\n", " ")
        if element.tail:
            element.tail = element.tail.replace("\n", " ")
    for element in tree.iter(*_BLOCK_TAGS):
        element.text = "\n" + (element.text or "")
        element.tail = "\n" + (element.tail or "")
    return paragraphs(tree.text_content(), unwrap=False)


_BLOCK_TAGS = (
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
    "tr", "table", "section", "article", "header", "footer", "figure", "figcaption", "hr", "dd",
    "dt",
)  # fmt: skip
