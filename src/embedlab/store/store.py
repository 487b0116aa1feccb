"""A store: a folder of collections (LanceDB tables plus embedlab's sidecar folders)."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from embedlab.encoders import Encoder, ModelSpec
from embedlab.errors import AlreadyExistsError, DamagedError, EmbedlabError, NotFoundError, close_matches
from embedlab.store.lock import hold, stderr_notice

if TYPE_CHECKING:
    from embedlab.store.collection import Collection

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SIDE = "_embedlab"
CONFIG = "collection.json"
PARTIAL_CONFIG = "collection.partial.json"  # the recipe of a reembed target that is not complete yet
DROPPED = ".dropped-"  # a sidecar folder being removed by `drop` (renamed first, so the collection is gone at once)


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

    def __init__(
        self,
        path: str | Path | None = None,
        wait: bool = True,
        on_wait: Callable[[str], None] | None = stderr_notice,
    ) -> None:
        """`wait`: a writer that finds the collection being written by another process waits for it
        (`on_wait` is told after a second); with `wait=False` it raises `BusyError` at once."""
        self.path = Path(path).expanduser() if path else default_store_path()
        if self.path.exists() and not self.path.is_dir():
            raise EmbedlabError(
                f"the store path {self.path} is a file, not a folder.", "pass a folder as the store.", param="store"
            )
        self.wait = wait
        self.on_wait = on_wait
        self._told: set[str] = set()  # collections whose waiting writer has said so (once is enough)
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

    def lock(self, name: str) -> Any:
        """`with store.lock(name):` hold collection `name`'s write lock (across processes; reentrant).

        Every write to a collection holds it: each ingest commit, create, drop, reembed. Code that writes
        to a collection by other means (a distributed ingest) holds it around each commit too. Waits for
        another writer unless the store was opened with `wait=False` (then raises `BusyError`).
        """
        check_name(name)

        def tell(message: str) -> None:
            if self.on_wait is not None and name not in self._told:
                self._told.add(name)
                self.on_wait(message)

        return hold(self.path / f"{name}.lock", name, self.wait, tell)  # beside the table, NAME.lance

    def table_exists(self, name: str) -> bool:
        """Whether the LanceDB table `name` is on disk (a local store: one folder per table)."""
        return (self.path / f"{name}.lance").is_dir()

    def names(self) -> list[str]:
        """Names of the collections in this store (complete ones: with a recipe)."""
        folder = self.path / SIDE
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if NAME_PATTERN.match(p.name) and (p / CONFIG).is_file())

    def read_config(self, name: str, file: str = CONFIG) -> dict[str, Any]:
        """The stored `collection.json` of `name`, checked; a damaged one is a `DamagedError` naming the file."""
        path = self.side(name) / file
        repair = (
            f"remove the collection with Store.drop({name!r}) (`embedlab collections drop {name}`) and index it "
            "again, or restore the file from a backup."
        )
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            reason = "is empty" if path.is_file() and path.stat().st_size == 0 else f"cannot be read ({exc})"
            raise DamagedError(f"collection {name!r} is damaged: {path} {reason}.", repair) from None
        wanted = {"model": str, "model_options": dict, "recipe": dict}
        if not isinstance(config, dict):
            raise DamagedError(
                f"collection {name!r} is damaged: {path} holds a {type(config).__name__}, not an object.", repair
            )
        for key, kind in wanted.items():
            if not isinstance(config.get(key), kind):
                what = "has no" if key not in config else f"has a {type(config[key]).__name__} as its"
                raise DamagedError(
                    f"collection {name!r} is damaged: {path} {what} {key!r} (expected a {kind.__name__}).", repair
                )
        return config

    def problems(self) -> dict[str, str]:
        """What is wrong with each damaged or unfinished collection of the store (name -> one line).

        Complete, healthy collections are not listed. Found: damaged or missing recipes, recipes whose
        table is missing, tables without a recipe (an interrupted create or drop) and reembed targets
        that are not complete. Each can be removed with `drop(name)`.
        """
        found: dict[str, str] = {}
        folder = self.path / SIDE
        sides = [p for p in folder.iterdir() if p.is_dir() and NAME_PATTERN.match(p.name)] if folder.is_dir() else []
        for side in sides:
            name = side.name
            if (side / CONFIG).is_file():
                try:
                    self.read_config(name)
                except DamagedError as exc:
                    found[name] = exc.message
                    continue
                if not self.table_exists(name):
                    found[name] = f"its table {self.path / (name + '.lance')} is missing (an interrupted drop?)"
            elif (side / PARTIAL_CONFIG).is_file():
                found[name] = "unfinished reembed: run the same reembed again to finish it"
        tables = sorted(p.name[: -len(".lance")] for p in self.path.glob("*.lance") if p.is_dir())
        for name in tables:
            if name not in found and not (self.side(name) / CONFIG).is_file() and NAME_PATTERN.match(name):
                found[name] = "a table without a recipe (left by an interrupted create or drop)"
        return dict(sorted(found.items()))

    def __contains__(self, name: str) -> bool:
        return name in self.names()

    def collection(self, name: str) -> Collection:
        """Open an existing collection."""
        from embedlab.store.collection import Collection

        if not isinstance(name, str) or not NAME_PATTERN.match(name) or not (self.side(name) / CONFIG).is_file():
            if isinstance(name, str) and (self.side(name) / PARTIAL_CONFIG).is_file():
                raise NotFoundError(
                    f"collection {name!r} is not complete: a reembed into it was interrupted.",
                    f"run the same reembed again to finish it, or remove it with Store.drop({name!r}) "
                    f"(`embedlab collections drop {name}`).",
                    param="collection",
                )
            close = close_matches(str(name), self.names())
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
        config = self.read_config(name)
        if not self.table_exists(name):
            raise DamagedError(
                f"collection {name!r} is damaged: its table {self.path / (name + '.lance')} is missing.",
                f"remove what is left with Store.drop({name!r}) (`embedlab collections drop {name}`) and index it again.",
            )
        return Collection(self, name, config)

    def create(self, name: str, model: str | ModelSpec | Encoder = "minilm", **options: Any) -> Collection:
        """A collection to add to: the existing one when its model and recipe match, else a new one.

        Nothing is written until the first items are added.
        """
        from embedlab.store.collection import Collection

        check_name(name)
        if (self.side(name) / PARTIAL_CONFIG).is_file() and not (self.side(name) / CONFIG).is_file():
            raise unfinished(name)
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
        """Delete a collection and its sidecar files; also a damaged or unfinished one.

        The sidecar folder (with the recipe) is first renamed away in one step, so the collection is gone
        for every reader at once; then the table is dropped and the folder removed. An interrupted drop
        leaves at most a table without a recipe, which readers ignore and a second `drop` removes.
        """
        check_name(name)
        side = self.side(name)
        if not side.exists() and not self.table_exists(name):
            self.collection(name)  # the not-found error, with close names
        self.check_writable()
        with self.lock(name):
            trash = None
            if side.exists():
                trash = side.with_name(f"{DROPPED}{name}-{secrets.token_hex(4)}")
                side.rename(trash)
            if self.table_exists(name):
                try:
                    self.db.drop_table(name)
                except Exception:  # a table LanceDB cannot open any more: remove its folder
                    shutil.rmtree(self.path / f"{name}.lance")
            if trash is not None:
                shutil.rmtree(trash, ignore_errors=True)
        for left in (self.path / SIDE).glob(f"{DROPPED}*"):  # folders of earlier interrupted drops
            shutil.rmtree(left, ignore_errors=True)

    def remove_leftover(self, name: str) -> None:
        """Under the lock, before creating `name`: remove a table without a recipe and an unfinished sidecar.

        Only a crashed create, drop or reembed leaves those (each holds the lock, so no live process is
        making them); a table with a recipe is never touched.
        """
        if (self.side(name) / CONFIG).is_file():
            raise AlreadyExistsError(f"collection {name!r} already exists.", param="name")
        if self.table_exists(name):
            try:
                self.db.drop_table(name)
            except Exception:
                shutil.rmtree(self.path / f"{name}.lance")
        shutil.rmtree(self.side(name), ignore_errors=True)


def unfinished(name: str) -> AlreadyExistsError:
    """The error for adding to a collection that an interrupted reembed is still building."""
    return AlreadyExistsError(
        f"collection {name!r} is an unfinished reembed target.",
        f"run the same reembed again to finish it, or remove it with Store.drop({name!r}) "
        f"(`embedlab collections drop {name}`).",
        param="name",
    )
