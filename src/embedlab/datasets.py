"""Real sample data that ships inside installed packages, plus the two tutorial examples.

- `lee_news()`: the Lee background corpus, 300 Australian Broadcasting Corporation news stories
  (Lee, Pincombe & Welsh, 2005), shipped in gensim's test data (gensim is LGPL-2.1).
- `pang_lee_polarity()`: 200 movie-review sentences labelled positive/negative (Pang & Lee, 2005),
  also in gensim's test data.
- `landmarks()` and `movies()`: the two small application examples of the usual embeddings
  tutorial (semantic search over four landmark sentences; TF-IDF recommendation over four
  movie descriptions), written for embedlab.
- `example(name)`: the input files the tutorials use (`words.txt`, `landmarks.csv`), written for
  embedlab, in `embedlab/data/examples/`; `embedlab datasets example NAME` copies one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from embedlab.io.labelled import LabelledRows, read_fasttext
from embedlab.io.records import Record

DATA = Path(__file__).parent / "data"
EXAMPLES = DATA / "examples"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")


def gensim_test_data(name: str) -> Path:
    """Path of a file in gensim's bundled test data (e.g. 'lee_background.cor')."""
    import gensim

    path = Path(gensim.__file__).parent / "test" / "test_data" / name
    if not path.exists():
        raise FileNotFoundError(f"{name} is not in gensim's test data at {path.parent}; reinstall gensim.")
    return path


def lee_news() -> list[Record]:
    """The Lee background news corpus: id `lee-N`, metadata `doc` (1-based position) and `words`."""
    lines = gensim_test_data("lee_background.cor").read_text(encoding="utf-8").splitlines()
    return [
        Record(f"lee-{n}", line.strip(), n, {"doc": n, "words": len(line.split())})
        for n, line in enumerate(lines, start=1)
        if line.strip()
    ]


def lee_story_pairs() -> list[tuple[str, str, str]]:
    """(story id, first sentence, rest of the story) for each Lee background story that has two or more sentences."""
    pairs = []
    for record in lee_news():
        parts = _SENTENCE_END.split((record.text or "").strip(), maxsplit=1)
        if len(parts) == 2 and parts[0].strip() and parts[1].strip():
            pairs.append((str(record.id), parts[0].strip(), parts[1].strip()))
    return pairs


def pang_lee_polarity() -> LabelledRows:
    """Pang & Lee (2005) sentence polarity: 200 movie-review sentences labelled pos/neg (gensim's test data)."""
    # the file is Windows-1252 (em dashes, accents)
    return read_fasttext(gensim_test_data("pang_lee_polarity.cor"), encoding="cp1252")


def _tutorial() -> dict[str, Any]:
    return json.loads((DATA / "tutorial.json").read_text(encoding="utf-8"))


def landmarks() -> list[Record]:
    """Four landmark sentences (Eiffel Tower, Great Wall, Statue of Liberty, Taj Mahal) with country."""
    return [
        Record(r["id"], r["text"], i, {"country": r["country"], "continent": r["continent"]})
        for i, r in enumerate(_tutorial()["landmarks"], start=1)
    ]


def movies() -> list[Record]:
    """Four short movie descriptions with title and year."""
    return [
        Record(r["id"], r["text"], i, {"title": r["title"], "year": r["year"]})
        for i, r in enumerate(_tutorial()["movies"], start=1)
    ]


def example(name: str) -> Path:
    """Path of a bundled example input: `words.txt` (25 words in four groups, one a non-word) or
    `landmarks.csv` (six landmark sentences with id, country and year opened)."""
    from embedlab.errors import NotFoundError, close_matches

    path = EXAMPLES / name
    if not path.is_file():
        names = sorted(p.name for p in EXAMPLES.iterdir())
        close = close_matches(name, names)
        raise NotFoundError(
            f"there is no bundled example {name!r}." + (f" Did you mean: {', '.join(close)}?" if close else ""),
            f"the examples are: {', '.join(names)}.",
            param="name",
        )
    return path
