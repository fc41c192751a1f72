"""Text in a legacy encoding (Latin-1, Windows-1252, Windows-1251, ...): detected, then decoded.

A file that is not UTF-8 is given to charset-normalizer, which ranks the encodings that decode
it by how much noise and how little language each decoding shows. Short news text ties often
(Latin-1, Windows-1250, Windows-1257 and a dozen code pages all decode "Café" without noise),
so among the encodings tied with the best (within `TIE` of its noise ratio, which one odd
character moves by 0.03 in a short page), Windows-1252 wins: it is what a Western newsroom's
tools wrote, and the web's default for a page labelled Latin-1 (WHATWG Encoding Standard).
"""

from __future__ import annotations

from dataclasses import dataclass

from charset_normalizer import from_bytes

# The tie-breaker above; a superset of Latin-1 for the bytes that are printable in both.
PREFERRED = "cp1252"
# charset-normalizer's "chaos" (share of noisy characters) counted as equal; its own cut-off for
# a decoding to be considered at all is 0.2.
TIE = 0.1


@dataclass(frozen=True, slots=True)
class Decoded:
    """A document's text and the encoding it was read in (a Python codec name)."""

    text: str
    encoding: str


def decode_detected(data: bytes) -> Decoded | None:
    """Return `data` decoded in the encoding detected for it, or None when no encoding fits.

    None means the bytes are not text in any encoding charset-normalizer knows (binary data).
    """
    matches = list(from_bytes(data))
    if not matches:
        return None
    best = min(match.chaos for match in matches)
    for match in matches:
        if match.chaos <= best + TIE and PREFERRED in match.could_be_from_charset:
            return Decoded(data.decode(PREFERRED), PREFERRED)
    chosen = next(match for match in matches if match.chaos <= best)
    return Decoded(str(chosen), chosen.encoding)
