"""embedlab: create, compare, see, evaluate, store and search embeddings."""

from typing import Any

from embedlab._version import __version__
from embedlab.encoders import Encoder, ModelSpec, list_models, load
from embedlab.errors import EmbedlabError


def __getattr__(name: str) -> Any:
    """`embedlab.explore` is imported on first use, so `import embedlab` loads no web server."""
    if name == "explore":
        from embedlab.serve.explorer.notebook import explore

        return explore
    raise AttributeError(f"module 'embedlab' has no attribute {name!r}")


__all__ = ["EmbedlabError", "Encoder", "ModelSpec", "__version__", "explore", "list_models", "load"]
