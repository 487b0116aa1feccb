"""embedlab: create, compare, see, evaluate, store and search embeddings."""

from embedlab._version import __version__
from embedlab.encoders import Encoder, ModelSpec, list_models, load
from embedlab.errors import EmbedlabError

__all__ = ["EmbedlabError", "Encoder", "ModelSpec", "__version__", "list_models", "load"]
