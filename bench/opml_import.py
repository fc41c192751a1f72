"""Reading an OPML file an admin sends the bot: a large honest one, and hostile ones.

    python -m bench.opml_import

Each file is read by `bot.opml.feed_urls` 20 times; the best wall time is printed with what the
reader answered, then this process's peak RSS. The files: 500 feeds (the import cap), a
"billion laughs" entity bomb (nine levels of ten references), and 1 MB of empty `outline`
elements (the size cap, past the element cap).
"""

from __future__ import annotations

import resource
import time

from bot import opml


def files() -> dict[str, bytes]:
    """Return the files to read, by name."""
    outlines = "".join(
        f'<outline type="rss" text="Feed {n}" xmlUrl="https://news{n}.example.org/rss?key=k{n}"/>'
        for n in range(opml.MAX_FEEDS)
    )
    honest = (
        f'<?xml version="1.0"?><opml version="2.0"><head><title>Feeds</title></head>'
        f"<body>{outlines}</body></opml>"
    ).encode()
    levels = "".join(
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">'
        for n in range(1, 10)
    )
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">{levels}]>'
        "<opml><body><outline xmlUrl='http://x.example/&lol9;'/></body></opml>"
    ).encode()
    flat = (b"<opml>" + b"<outline/>" * 200_000)[: opml.MAX_BYTES]
    return {f"{opml.MAX_FEEDS} feeds": honest, "billion laughs": bomb, "1 MB of elements": flat}


def main() -> None:
    """Read each file, print the best time and the answer, then the peak RSS."""
    for name, data in files().items():
        best = float("inf")
        for _ in range(20):
            started = time.perf_counter()
            try:
                answer = f"{len(opml.feed_urls(data))} feeds"
            except opml.OpmlError as exc:
                answer = f"refused: {exc}"
            best = min(best, time.perf_counter() - started)
        print(f"{name}: {len(data):,} bytes, {best * 1000:.2f} ms, {answer}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
