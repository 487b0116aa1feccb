"""What the search tests share, made when the tests are collected.

`make mutate` (benchmarks/mutate_module.py) runs mutmut, which forks every mutant's test run from a process that
has collected the tests. What is imported or loaded here is then made once for the whole run instead of once per
mutant: LanceDB takes about 3 s to import, gensim (whose test data the Lee corpus fixtures read) about 2 s, and
the wordllama model 0.7 s to load, while most mutants' tests take less than that.
"""

from __future__ import annotations

from pathlib import Path

import gensim  # noqa: F401
import lancedb  # noqa: F401
import pytest

HERE = Path(__file__).parent
_loaded: dict[str, object] = {}


def pytest_collection_finish(session: pytest.Session) -> None:
    """Load wordllama as soon as the tests are collected when a collected search test needs it."""
    if any(
        HERE in Path(str(item.path)).parents and "wordllama" in getattr(item, "fixturenames", ())
        for item in session.items
    ):
        from embedlab import load

        _loaded.setdefault("wordllama", load("wordllama"))


@pytest.fixture(scope="session")
def wordllama():
    """The wordllama encoder (tests/conftest.py's fixture, loaded at collection for the search tests)."""
    if "wordllama" not in _loaded:
        from embedlab import load

        _loaded["wordllama"] = load("wordllama")
    return _loaded["wordllama"]
