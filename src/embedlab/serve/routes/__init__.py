"""The server's routes: OpenAI-compatible embeddings and models, the collections API, and operations."""
