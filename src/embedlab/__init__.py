"""embedlab: create, compare, see, evaluate, store and search embeddings."""

from embedlab.encoders import Encoder, list_models, load
from embedlab.errors import EmbedlabError

__version__ = "0.1.0"

__all__ = ["EmbedlabError", "Encoder", "__version__", "list_models", "load"]
