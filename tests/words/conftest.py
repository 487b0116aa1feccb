"""Models trained once per session on the bundled Lee news corpus (300 ABC stories shipped with gensim)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from embedlab.datasets import gensim_test_data
from embedlab.words import TrainOptions, train

FAST = dict(min_count=2, workers=1, seed=1)


@pytest.fixture(scope="session", autouse=True)
def _signing_key_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The doc2vec signing key lives in a temp config folder, never the user's."""
    folder = tmp_path_factory.mktemp("config")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMBEDLAB_CONFIG_DIR", str(folder))
        yield folder


@pytest.fixture(scope="session")
def lee_path() -> Path:
    return gensim_test_data("lee_background.cor")


@pytest.fixture(scope="session")
def w2v_dir(tmp_path_factory: pytest.TempPathFactory, lee_path: Path) -> Path:
    out = tmp_path_factory.mktemp("models") / "w2v"
    train("word2vec", lee_path, out, TrainOptions(epochs=40, **FAST))
    return out


@pytest.fixture(scope="session")
def ft_dir(tmp_path_factory: pytest.TempPathFactory, lee_path: Path) -> Path:
    out = tmp_path_factory.mktemp("models") / "ft"
    train("fasttext", lee_path, out, TrainOptions(dim=32, epochs=5, buckets=100_000, **FAST))
    return out


@pytest.fixture(scope="session")
def d2v_dir(tmp_path_factory: pytest.TempPathFactory, lee_path: Path, _signing_key_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("models") / "d2v"
    train("doc2vec", lee_path, out, TrainOptions(dim=50, epochs=40, **FAST))
    return out


@pytest.fixture(scope="session")
def w2v(w2v_dir: Path):
    from embedlab.words import load

    return load(f"word2vec:{w2v_dir}")


@pytest.fixture(scope="session")
def wordllama_words():
    from embedlab.words import load

    return load("wordllama")
