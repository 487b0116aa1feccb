"""Loading pretrained transformers models from a local folder or a hub id, shared by text and image encoders.

Weights are only read from safetensors files (never pickled .bin files), and a failed hub download
says whether the network or HF_HUB_OFFLINE was the reason and what to do instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    """Run `load()` (the from_pretrained calls of `what`, e.g. "an image model"); failures become clear errors.

    A hub id with the hub unreachable is loaded from the local cache only (huggingface_hub's offline mode),
    so it fails in seconds instead of after ~50 s of connection retries. A weights file that is not valid
    safetensors (`SafetensorError`) is a clear error too.
    """
    from safetensors import SafetensorError

    offline = os.environ.get("HF_HUB_OFFLINE") == "1"
    unreachable = folder is None and not offline and not hub_reachable()
    try:
        if unreachable:
            with hub_offline():
                return load()
        return load()
    except (OSError, ValueError, KeyError, SafetensorError) as exc:
        if folder is not None:
            raise EmbedlabError(
                f"could not load {what} from {folder}: {first_line(exc)}",
                f"the folder needs {needs} (embedlab never loads pickled .bin weights; convert them to safetensors).",
            ) from exc
        raise ModelUnavailableError(
            f"could not load {str(model)!r} from the Hugging Face hub"
            + (
                " (HF_HUB_OFFLINE=1 is set)"
                if offline
                else " (the hub is not reachable, and the model is not in the local cache)"
                if unreachable
                else " (is the network reachable?)"
            )
            + f": {first_line(exc)}",
            hub_hint,
        ) from exc


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether a TCP connection to the hub opens within `timeout` seconds (True behind a proxy: not testable)."""
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants

    if any(os.environ.get(name) for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    url = urlparse(constants.ENDPOINT)
    try:
        with socket.create_connection((url.hostname or "huggingface.co", url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


@contextmanager
def hub_offline() -> Iterator[None]:
    """huggingface_hub's offline mode (local cache only) for the duration of the block."""
    from huggingface_hub import constants

    before = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = before


def weights_version(folder: Path | None, model: Any) -> str:
    """sha256 of a local folder's model.safetensors, else the hub commit the weights came from."""
    weights = folder / "model.safetensors" if folder else None
    if weights is not None and weights.exists():
        return "sha256:" + file_sha256(weights)[:16]
    return "commit:" + str(getattr(model.config, "_commit_hash", None))


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
