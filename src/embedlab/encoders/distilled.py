"""Static models distilled from a sentence transformer with model2vec (`static:DIR`).

`distill("minilm", "models/minilm-static", dims=256)` runs every token of the transformer's vocabulary
through the model once (model2vec's `distill`: one forward pass per token, PCA to `dims`, SIF weighting
of frequent tokens), and saves a folder in model2vec's `StaticModel` format. Encoding a text is then the
mean of its tokens' vectors: no transformer at run time, no length limit, two orders of magnitude faster,
and much weaker on word order and context (see docs/speed.md for the measured scores).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from embedlab.encoders.base import Encoder
from embedlab.errors import EmbedlabError, NotFoundError
from embedlab.io.files import file_sha256, write_folder

NEEDS = "config.json, tokenizer.json and model.safetensors (model2vec's StaticModel format)"


def import_model2vec() -> Any:
    try:
        import model2vec
    except ImportError as exc:  # pragma: no cover - a dependency of embedlab
        raise EmbedlabError("static models need model2vec, which is not installed.", "pip install model2vec") from exc
    return model2vec


class StaticModelEncoder(Encoder):
    """A model2vec StaticModel folder: texts as the mean of their (SIF-weighted) token vectors, unit length."""

    kind = "static"
    modality = "text"
    config_keys = ()

    def __init__(self, folder: str | Path) -> None:
        super().__init__()
        path = Path(folder).expanduser()
        if not path.is_dir() or not (path / "model.safetensors").is_file():
            raise NotFoundError(f"{folder} is not a static model folder.", f"pass a folder with {NEEDS}.")
        try:
            self.model = import_model2vec().StaticModel.from_pretrained(path, force_download=False)
        except (OSError, ValueError, KeyError) as exc:
            raise EmbedlabError(
                f"could not load the static model in {path}: {exc}", f"the folder needs {NEEDS}."
            ) from exc
        self.folder = path
        self.name = path.name
        self._version: str | None = None

    @property
    def dim(self) -> int:
        return int(self.model.dim)

    @property
    def spec_name(self) -> str:
        return f"static:{self.folder.resolve()}"

    def identity(self) -> dict[str, Any]:
        if self._version is None:
            self._version = "sha256:" + file_sha256(self.folder / "model.safetensors")[:16]
        return {
            "model": str(self.folder.resolve()),
            "version": self._version,
            "pooling": "mean of token vectors",
            "max_tokens": None,
            "long_text": "all tokens used",
        }

    @property
    def token_vectors(self) -> np.ndarray:
        """The static embedding table, one row per token."""
        return np.asarray(self.model.embedding, dtype=np.float32)

    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        self.last_stats.update(empty_texts=sum(1 for t in texts if not t.strip()))
        vectors = self.model.encode(
            texts,
            max_length=None,  # every token counts: a mean of static vectors has no length limit
            normalize=False,
            batch_size=max(batch_size, 1024),
            show_progress_bar=show_progress,
            use_multiprocessing=False,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


def distill(
    model: str = "minilm", output: str | Path = "models/minilm-static", dims: int | None = 256, overwrite: bool = False
) -> Path:
    """Distill a static model from a local transformer folder (`minilm` is the bundled one) into `output`.

    `dims` is model2vec's PCA size (None keeps the transformer's own width). Runs offline; the folder is
    written atomically (nothing is left behind if it fails or is interrupted).
    """
    from embedlab.encoders.spec import parse

    spec = parse(model)
    if spec.kind == "minilm":
        from embedlab.encoders.transformer import bundled_minilm_path

        source = bundled_minilm_path()
    elif spec.kind == "folder":
        source = Path(str(spec.path))
    else:
        raise EmbedlabError(
            f"distill needs a local transformer model; {model!r} is a {spec.kind} model.",
            "pass minilm or a folder with a sentence-transformers model.",
            param="model",
        )
    if dims is not None and dims < 2:
        raise EmbedlabError(
            f"dims={dims} is too small.", "pass 2 or more, or None to keep the model's width.", param="dims"
        )
    from embedlab.encoders.pretrained import quiet_transformers

    quiet_transformers()
    from model2vec.distill import distill as m2v_distill

    output = Path(output).expanduser()
    from embedlab.io.files import check_output_dir

    check_output_dir(output, overwrite)
    static = m2v_distill(model_name=str(source), pca_dims=dims)
    write_folder(output, overwrite, lambda temp: static.save_pretrained(str(temp)))
    return output
