"""A store: a folder of collections (LanceDB tables plus embedlab's sidecar folders)."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from embedlab.encoders import Encoder, ModelSpec
from embedlab.errors import EmbedlabError, NotFoundError, close_matches

if TYPE_CHECKING:
    from embedlab.store.collection import Collection

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SIDE = "_embedlab"
CONFIG = "collection.json"


DEMO_COLLECTIONS = ("demo-news", "demo-landmarks", "demo-movies")  # made by embedlab.demo (`embedlab demo`)


def default_store_path() -> Path:
    """$EMBEDLAB_STORE, else $XDG_DATA_HOME/embedlab, else ~/.local/share/embedlab."""
    if os.environ.get("EMBEDLAB_STORE"):
        return Path(os.environ["EMBEDLAB_STORE"]).expanduser()
    return Path(os.environ.get("XDG_DATA_HOME") or "~/.local/share").expanduser() / "embedlab"


def check_name(name: str) -> None:
    """Collection names are also file names: letters, digits, '_', '-', '.', nothing that leaves the store."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise EmbedlabError(
            f"{name!r} is not a valid collection name.",
            "use 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit.",
            param="name",
        )


class Store:
    """A folder of collections (LanceDB, embedded)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path else default_store_path()
        if self.path.exists() and not self.path.is_dir():
            raise EmbedlabError(
                f"the store path {self.path} is a file, not a folder.", "pass a folder as the store.", param="store"
            )
        self._db: Any = None

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    @property
    def db(self) -> Any:
        if self._db is None:
            import lancedb

            # interval 0: every read sees the latest commit, also from other handles or processes
            self._db = lancedb.connect(str(self.path), read_consistency_interval=timedelta(0))
        return self._db

    def check_writable(self) -> None:
        """Refuse early, before anything is written, when the store folder cannot be written."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.path, prefix=".write-check-"):
                pass
        except OSError as exc:
            raise EmbedlabError(
                f"the store folder {self.path} is not writable ({exc.strerror or exc}).",
                "pick a writable folder (store=PATH, or EMBEDLAB_STORE), or fix its permissions.",
                param="store",
            ) from exc

    def side(self, name: str) -> Path:
        """The sidecar folder of collection `name` (its recipe, fitted vectorizer, ANN index, map cache)."""
        return self.path / SIDE / name

    def names(self) -> list[str]:
        """Names of the collections in this store."""
        folder = self.path / SIDE
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if (p / CONFIG).is_file())

    def __contains__(self, name: str) -> bool:
        return name in self.names()

    def collection(self, name: str) -> Collection:
        """Open an existing collection."""
        from embedlab.store.collection import Collection

        if name not in self.names():
            close = close_matches(name, self.names())
            raise NotFoundError(
                f"there is no collection {name!r} in {self.path}."
                + (f" Did you mean: {', '.join(close)}?" if close else ""),
                (
                    "the demo makes it: run embedlab.demo.run(store) (`embedlab demo`) first."
                    if name in DEMO_COLLECTIONS
                    else "list them with Store.names() (`embedlab collections`), or create it with Store.create "
                    "(`embedlab index`)."
                ),
                param="collection",
            )
        config = json.loads((self.side(name) / CONFIG).read_text(encoding="utf-8"))
        return Collection(self, name, config)

    def create(self, name: str, model: str | ModelSpec | Encoder = "minilm", **options: Any) -> Collection:
        """A collection to add to: the existing one when its model and recipe match, else a new one.

        Nothing is written until the first items are added.
        """
        from embedlab.store.collection import Collection

        check_name(name)
        if name in self.names():
            existing = self.collection(name)
            existing.check_same_model(model, options)
            if isinstance(model, Encoder):
                existing.use_encoder(model)
            return existing
        if isinstance(model, Encoder):
            encoder = model
        else:
            encoder = ModelSpec(str(model), options).load() if not isinstance(model, ModelSpec) else model.load()
        spec = encoder.spec()  # absolute paths, every option: reopens from anywhere
        config = {"name": name, "model": spec.name, "model_options": dict(spec.options), "recipe": None}
        return Collection(self, name, config, encoder=encoder)

    def drop(self, name: str) -> None:
        """Delete a collection and its sidecar files."""
        self.collection(name)
        self.check_writable()
        if name in self.db.list_tables().tables:
            self.db.drop_table(name)
        shutil.rmtree(self.side(name), ignore_errors=True)
