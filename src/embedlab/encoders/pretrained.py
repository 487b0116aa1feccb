"""Loading pretrained transformers models from a local folder or a hub id, shared by text and image encoders.

Weights are only read from safetensors files (never pickled .bin files), and a failed hub download
says whether the network or HF_HUB_OFFLINE was the reason and what to do instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from embedlab.errors import EmbedlabError, ModelUnavailableError, NotFoundError
from embedlab.io.files import file_sha256

T = TypeVar("T")


def quiet_transformers() -> None:
    """No progress bars or warnings from transformers while embedlab loads a model."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def locate(model: str | Path, needs: str) -> tuple[Path | None, str]:
    """(local folder or None for a hub id, the location to pass to from_pretrained)."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path, str(path)
    if path.exists() or str(model).startswith((".", "/", "~")) or str(model).count("/") > 1:
        raise NotFoundError(f"model folder {model} does not exist or is not a folder.", f"pass a folder with {needs}.")
    return None, str(model)


def load_parts(
    what: str, model: str | Path, folder: Path | None, needs: str, hub_hint: str, load: Callable[[], T]
) -> T:
    """Run `load()` (the from_pretrained calls of `what`, e.g. "an image model"); failures become clear errors."""
    try:
        return load()
    except (OSError, ValueError, KeyError) as exc:
        if folder is not None:
            raise EmbedlabError(
                f"could not load {what} from {folder}: {first_line(exc)}",
                f"the folder needs {needs} (embedlab never loads pickled .bin weights; convert them to safetensors).",
            ) from exc
        offline = os.environ.get("HF_HUB_OFFLINE") == "1"
        raise ModelUnavailableError(
            f"could not load {str(model)!r} from the Hugging Face hub"
            + (" (HF_HUB_OFFLINE=1 is set)" if offline else " (is the network reachable?)")
            + f": {first_line(exc)}",
            hub_hint,
        ) from exc


def weights_version(folder: Path | None, model: Any) -> str:
    """sha256 of a local folder's model.safetensors, else the hub commit the weights came from."""
    weights = folder / "model.safetensors" if folder else None
    if weights is not None and weights.exists():
        return "sha256:" + file_sha256(weights)[:16]
    return "commit:" + str(getattr(model.config, "_commit_hash", None))


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
