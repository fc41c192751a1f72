"""The feeds of an OPML file an admin sends the bot, read as untrusted input.

Parsed with the standard library's expat, within limits: a size cap before parsing, no DTD at
all (an OPML file has no need of one, and a DTD is where entity expansion bombs and external
entities live: the defusedxml approach), a cap on elements and on feeds. Anything else is an
`OpmlError` with a short reason the bot can show.
"""

from __future__ import annotations

import re
from xml.parsers import expat

MAX_BYTES = 1 << 20  # an OPML of 500 feeds is about 100 KB
MAX_FEEDS = 500
MAX_ELEMENTS = 20_000
MAX_URL = 2000  # characters

# A feed admins can add: http(s), a host, no spaces or control characters.
_WEB_URL = re.compile(r"https?://[^\s/?#]+[^\s]*", re.IGNORECASE)


def is_web_feed(text: str) -> bool:
    """Return whether `text` can be a feed an admin adds: an http(s) URL, not too long."""
    return len(text) <= MAX_URL and _WEB_URL.fullmatch(text) is not None


class OpmlError(ValueError):
    """The file is not an OPML file the bot can import; the message says why, in a few words."""


def feed_urls(data: bytes) -> list[str]:
    """Return the http(s) feed URLs (`xmlUrl` of each `outline`) of an OPML file, in order.

    Raises:
        OpmlError: Too big, not XML, not OPML, a DTD, too many elements or feeds, no feeds.
    """
    if len(data) > MAX_BYTES:
        raise OpmlError(f"it is larger than {MAX_BYTES // 1024} KB")
    feeds: dict[str, None] = {}
    elements = 0

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal elements
        elements += 1
        if elements == 1 and name.lower() != "opml":
            raise OpmlError("it is XML, but not OPML")
        if elements > MAX_ELEMENTS:
            raise OpmlError(f"it has more than {MAX_ELEMENTS:,} elements")
        if name.lower() != "outline":
            return
        url = next((v for k, v in attributes.items() if k.lower() == "xmlurl"), "").strip()
        if is_web_feed(url):
            feeds[url] = None
            if len(feeds) > MAX_FEEDS:
                raise OpmlError(f"it lists more than {MAX_FEEDS} feeds")

    def refuse_dtd(*_: object) -> None:
        raise OpmlError("it declares a DTD, which an OPML file has no need of")

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise OpmlError(f"it is not well-formed XML ({expat.ErrorString(exc.code)})") from None
    if not feeds:
        raise OpmlError("it lists no http(s) feed (no outline with an xmlUrl)")
    return list(feeds)
