"""embedlab: create, compare, see, evaluate, store and search embeddings."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from embedlab._version import __version__
from embedlab.errors import EmbedlabError

if TYPE_CHECKING:
    from embedlab.encoders import Encoder, ModelSpec, list_models, load
    from embedlab.serve.explorer.notebook import explore

# imported on first use, so that `import embedlab` (and the command line's start-up) loads no numpy
# and no web server
_LAZY = {
    "Encoder": "embedlab.encoders",
    "ModelSpec": "embedlab.encoders",
    "list_models": "embedlab.encoders",
    "load": "embedlab.encoders",
    "explore": "embedlab.serve.explorer.notebook",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'embedlab' has no attribute {name!r}")


__all__ = ["EmbedlabError", "Encoder", "ModelSpec", "__version__", "explore", "list_models", "load"]
