"""Bias tests for embeddings: WEAT (Caliskan et al., 2017) and a direct-bias projection (Bolukbasi et al., 2016).

WEAT compares two target word sets X, Y (flowers, insects) by their association with two attribute sets
A, B (pleasant, unpleasant). s(w) = mean cos(w, A) - mean cos(w, B); the effect size is
(mean s(X) - mean s(Y)) / std s(X u Y) (sample std); the one-sided p-value is the share of equal-size
re-partitions of X u Y whose statistic sum s(Xi) - sum s(Yi) is at least the observed one: exact
(every partition) when there are at most `EXACT_LIMIT`, else `permutations` random ones with a seed.

Static models look words up (OOV words are dropped and reported; fastText builds them from subwords).
Sentence encoders embed each word in SEAT-style bleached templates (May et al., 2019) and average them.
The standard word lists ship in `embedlab/data/weat.json`.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from functools import cache
from itertools import combinations
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from embedlab.encoders.base import Encoder, l2_normalize
from embedlab.errors import EmbedlabError, close_matches, shorten
from embedlab.words.explore import FROM_SUBWORDS, WordStatus, WordVectors

DATA = Path(__file__).resolve().parent.parent / "data" / "weat.json"
EXACT_LIMIT = 100_000
TEMPLATES = ("This is {}.", "That is {}.", "There is {}.", "Here is {}.", "It is {}.")
NEUTRAL_SETS = ("career", "family", "math", "arts_weat7", "science", "arts_weat8")
PERMUTATION_BATCH = 2_000


class WordEmbedder(Protocol):
    """Anything that gives vectors for words: `WordVectors` or `TemplateWords`."""

    name: str

    def embed_words(self, words: list[str]) -> tuple[list[str], np.ndarray, list[WordStatus]]: ...


class TemplateWords:
    """A sentence encoder used on words: each word fills every template; its vector is their mean (SEAT-style)."""

    def __init__(self, encoder: Encoder, templates: tuple[str, ...] = TEMPLATES) -> None:
        self.encoder = encoder
        self.templates = templates
        self.name = f"{encoder.name} (words in {len(templates)} SEAT templates)"

    def embed_words(self, words: list[str]) -> tuple[list[str], np.ndarray, list[WordStatus]]:
        sentences = [template.format(word) for word in words for template in self.templates]
        vectors = self.encoder.encode(sentences, normalize=True).reshape(len(words), len(self.templates), -1)
        return list(words), vectors.mean(axis=1), []


@cache
def weat_data() -> dict[str, Any]:
    """The shipped WEAT tests and word sets (with the source citation)."""
    return json.loads(DATA.read_text(encoding="utf-8"))


def word_set(spec: str | list[str]) -> tuple[str, list[str]]:
    """(label, words) for a named set ('flowers'), a comma-separated list, `@FILE` (one word a line) or a list."""
    if isinstance(spec, list):
        return "custom", _dedupe(spec)
    spec = spec.strip()
    sets = weat_data()["sets"]
    if spec in sets:
        return spec, list(sets[spec])
    if spec.startswith("@"):
        path = Path(spec[1:]).expanduser()
        if not path.is_file():
            raise EmbedlabError(f"word list file {path} does not exist.", "write one word per line.")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise EmbedlabError(
                f"word list file {path} is not UTF-8 (byte {exc.start + 1}).", "re-save it as UTF-8, one word per line."
            ) from None
        return path.name, _dedupe(text.replace(",", "\n").splitlines())
    if "," in spec:
        return "custom", _dedupe(spec.split(","))
    close = close_matches(spec, sets)
    raise EmbedlabError(
        f"{spec!r} is not a named word set." + (f" Did you mean: {', '.join(close)}?" if close else ""),
        "give a set name (see weat_data(), or `embedlab bias --list`), comma-separated words 'a,b,c', or @FILE.",
    )


def _dedupe(words: list[str]) -> list[str]:
    out: list[str] = []
    for word in (w.strip() for w in words):
        if word and word not in out:
            out.append(word)
    return out


def embedder(model: str | WordVectors | Encoder | WordEmbedder) -> WordEmbedder:
    """A static model as itself, a sentence encoder wrapped in templates; strings are loaded first."""
    if isinstance(model, str):
        from embedlab.words.explore import is_static_spec, load

        if is_static_spec(model):
            return load(model)
        from embedlab.encoders import load as load_encoder

        model = load_encoder(model)
        if model.requires_fit:
            raise EmbedlabError(f"{model.name} must be fitted on a corpus and has no meaning for single words.")
    if isinstance(model, Encoder):
        return TemplateWords(model)
    return model


@dataclass
class WeatResult:
    """Outcome of one WEAT."""

    model: str
    test: str
    targets: tuple[str, str]
    attributes: tuple[str, str]
    effect_size: float
    p_value: float
    statistic: float
    exact: bool
    partitions: int
    seed: int | None
    words: dict[str, list[str]]
    dropped_oov: dict[str, list[str]] = field(default_factory=dict)
    from_subwords: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def weat(
    model: str | WordVectors | Encoder | WordEmbedder,
    x: str | list[str],
    y: str | list[str],
    a: str | list[str],
    b: str | list[str],
    permutations: int = 10_000,
    seed: int = 0,
    test: str = "custom",
) -> WeatResult:
    """WEAT effect size and permutation p-value of targets X, Y against attributes A, B."""
    if permutations < 1:
        raise EmbedlabError(f"permutations must be at least 1, got {permutations}.")
    named = [word_set(spec) for spec in (x, y, a, b)]
    roles = ("X", "Y", "A", "B")
    labels = [label if label != "custom" else role for (label, _), role in zip(named, roles, strict=True)]
    for label, (_, words) in zip(labels, named, strict=True):
        if len(words) < 2:
            raise EmbedlabError(f"word set {label} has {len(words)} word(s); WEAT needs at least 2 per set.")
    model = embedder(model)
    matrices: list[np.ndarray] = []
    used: dict[str, list[str]] = {}
    dropped: dict[str, list[str]] = {}
    subwords: dict[str, list[str]] = {}
    for label, (_, words) in zip(labels, named, strict=True):
        kept, matrix, unusual = model.embed_words(words)
        missing = [s.word for s in unusual if s.key is None]
        if len(kept) < 2:
            raise EmbedlabError(
                f"only {len(kept)} of the {len(words)} words of set {label} are in the vocabulary of {model.name}"
                + (f" (missing: {shorten(missing)})" if missing else "")
                + ".",
                "WEAT needs at least 2 known words per set: use other words, a model with a larger vocabulary, "
                "or embed the words as text (seat=True, or a sentence encoder such as minilm).",
            )
        used[label] = kept
        matrices.append(l2_normalize(matrix))
        if missing:
            dropped[label] = missing
        built = [s.word for s in unusual if s.status == FROM_SUBWORDS]
        if built:
            subwords[label] = built
    mx, my, ma, mb = matrices
    s_x = (mx @ ma.T).mean(axis=1) - (mx @ mb.T).mean(axis=1)
    s_y = (my @ ma.T).mean(axis=1) - (my @ mb.T).mean(axis=1)
    # in float64 throughout: the observed statistic must be exactly the one its own partition gives below,
    # or an exact test can miss the observed split itself (and report p = 0, which no exact test can give)
    s_all = np.concatenate([s_x, s_y]).astype(np.float64)
    s_x64, s_y64 = s_all[: len(s_x)], s_all[len(s_x) :]
    spread = float(s_all.std(ddof=1))
    effect = float((s_x64.mean() - s_y64.mean()) / spread) if spread > 0 else 0.0
    statistic = float(s_x64.sum() - s_y64.sum())
    p_value, exact, count = permutation_p_value(s_all, len(s_x), statistic, permutations, seed)
    return WeatResult(
        model.name,
        test,
        (labels[0], labels[1]),
        (labels[2], labels[3]),
        round(effect, 6),
        p_value,
        round(statistic, 6),
        exact,
        count,
        None if exact else seed,
        used,
        dropped,
        subwords,
    )


def permutation_p_value(
    scores: np.ndarray, size_x: int, observed: float, permutations: int, seed: int
) -> tuple[float, bool, int]:
    """One-sided p of sum(s[Xi]) - sum(s[Yi]) >= observed over re-partitions; (p, exact, partitions used)."""
    n = len(scores)
    total = float(scores.sum())
    threshold = observed - 1e-9 * max(1.0, abs(observed))
    partitions = math.comb(n, size_x)
    if partitions <= EXACT_LIMIT:
        hits = sum(
            1 for subset in combinations(range(n), size_x) if 2 * scores[list(subset)].sum() - total >= threshold
        )
        return hits / partitions, True, partitions
    rng = np.random.default_rng(seed)
    hits = done = 0
    while done < permutations:
        batch = min(PERMUTATION_BATCH, permutations - done)
        order = rng.permuted(np.tile(np.arange(n), (batch, 1)), axis=1)[:, :size_x]
        hits += int((2 * scores[order].sum(axis=1) - total >= threshold).sum())
        done += batch
    return (hits + 1) / (permutations + 1), False, permutations


def named_weat(model: str | WordVectors | Encoder | WordEmbedder, test: str, **options: Any) -> WeatResult:
    """Run one of the paper's tests by name: weat1 ... weat10."""
    tests = weat_data()["tests"]
    if test not in tests:
        close = close_matches(test, tests)
        raise EmbedlabError(
            f"no WEAT test named {test!r}." + (f" Did you mean: {', '.join(close)}?" if close else ""),
            f"the named tests are {', '.join(tests)}.",
        )
    spec = tests[test]
    x, y = spec["targets"]
    a, b = spec["attributes"]
    return weat(model, x, y, a, b, test=test, **options)


def direct_bias(
    model: str | WordVectors | Encoder | WordEmbedder,
    words: str | list[str] | None = None,
    pair: tuple[str, str] = ("he", "she"),
    c: float = 1.0,
    top: int = 10,
    vocabulary_limit: int = 20_000,
) -> dict[str, Any]:
    """Direct bias (Bolukbasi et al., 2016): mean |cos(w, g)|^c over neutral words, g = unit(he) - unit(she).

    `words` defaults to the gender-neutral WEAT sets (career, family, math, arts, science). For static models
    the `top` words most aligned with each end of the direction are listed from the `vocabulary_limit`
    most frequent words.
    """
    if c <= 0:
        raise EmbedlabError(f"c must be positive, got {c}.")
    if len(pair) != 2 or pair[0].strip().lower() == pair[1].strip().lower():
        raise EmbedlabError("the direction needs two different words, e.g. he,she.")
    model = embedder(model)
    kept, ends, unusual = model.embed_words(list(pair))
    if len(kept) < 2:
        raise EmbedlabError(
            f"{', '.join(s.word for s in unusual if s.key is None)} not in the vocabulary of {model.name}.",
            "pick a direction whose two words the model knows.",
        )
    ends = l2_normalize(ends)
    direction = ends[0] - ends[1]
    direction /= max(float(np.linalg.norm(direction)), 1e-12)
    if words is None:
        sets = weat_data()["sets"]
        neutral = _dedupe([w for name in NEUTRAL_SETS for w in sets[name]])
    else:
        neutral = word_set(words)[1]
    found, matrix, unusual = model.embed_words(neutral)
    if not found:
        raise EmbedlabError(f"none of the words is in the vocabulary of {model.name}.", "give other words.")
    projections = l2_normalize(matrix) @ direction
    result: dict[str, Any] = {
        "model": model.name,
        "direction": f"{pair[0]} - {pair[1]}",
        "c": c,
        "direct_bias": round(float(np.mean(np.abs(projections) ** c)), 6),
        "words": len(found),
        "projections": [
            {"word": w, "projection": round(float(p), 6)}
            for w, p in sorted(zip(found, projections, strict=True), key=lambda item: -item[1])
        ],
        "dropped_oov": [s.word for s in unusual if s.key is None],
    }
    if isinstance(model, WordVectors):
        vocabulary = [w for w in model.vocabulary[:vocabulary_limit] if w.isalpha()]
        keys = [model.vectors.get_index(w) for w in vocabulary]
        scores = l2_normalize(np.asarray(model.vectors.vectors[keys], dtype=np.float32)) @ direction
        skip = {p.lower() for p in pair}
        order = [i for i in np.argsort(-scores) if vocabulary[i].lower() not in skip]
        result[f"most_{pair[0]}"] = [
            {"word": vocabulary[i], "projection": round(float(scores[i]), 6)} for i in order[:top]
        ]
        result[f"most_{pair[1]}"] = [
            {"word": vocabulary[i], "projection": round(float(scores[i]), 6)} for i in order[::-1][:top]
        ]
    return result
