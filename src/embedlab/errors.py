"""Typed errors for everything a user can get wrong, each with a hint that says what to do.

Every error is an `EmbedlabError` (a `ValueError`). Subclasses say what kind of problem it is, so callers
(the CLI, the server) branch on the type or `code`, never on the message text:

| class                  | code             | CLI exit | HTTP |
|------------------------|------------------|----------|------|
| EmbedlabError          | invalid_input    | 2        | 400  |
| EmptyInputError        | empty_input      | 2        | 400  |
| NotFoundError          | not_found        | 2        | 404  |
| AlreadyExistsError     | already_exists   | 2        | 409  |
| ModelMismatchError     | model_mismatch   | 2        | 409  |
| NotFittedError         | not_fitted       | 2        | 400  |
| UnsupportedInputError  | unsupported      | 2        | 400  |
| ModelUnavailableError  | model_unavailable| 2        | 503  |
| DamagedError           | damaged          | 2        | 500  |
| BusyError              | busy             | 2        | 409  |

`Interrupted` is not an error: it is what the command line raises on Ctrl-C or SIGTERM (a `BaseException`,
like `KeyboardInterrupt`), carrying the signal and, once a command knows it, a line saying what was kept.

Messages speak Python: they name arguments (`text_column`, `k`), not command-line flags. `param` names
the argument at fault, so the command line can say which flag that is (see `embedlab.cli`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class EmbedlabError(ValueError):
    """A problem with the user's input or set-up. The CLI prints it and exits with code 2."""

    code = "invalid_input"
    status = 400

    def __init__(self, message: str, hint: str | None = None, *, param: str | None = None) -> None:
        self.message = message
        self.hint = hint
        self.param = param
        super().__init__(f"{message}\n  hint: {hint}" if hint else message)


class EmptyInputError(EmbedlabError):
    """There is nothing to work on: no items, no texts, no words."""

    code = "empty_input"


class NotFoundError(EmbedlabError):
    """A collection, item, file, model or word that does not exist."""

    code = "not_found"
    status = 404


class AlreadyExistsError(EmbedlabError):
    """Something would be overwritten (a collection, an output folder)."""

    code = "already_exists"
    status = 409


class ModelMismatchError(EmbedlabError):
    """Vectors of two different recipes would be mixed, or a model changed under stored vectors."""

    code = "model_mismatch"
    status = 409


class NotFittedError(EmbedlabError):
    """An encoder that must learn from a corpus (count, tfidf) was used before `fit`."""

    code = "not_fitted"


class UnsupportedInputError(EmbedlabError):
    """The input is of a kind this model or mode cannot take (an image for a text model, ...)."""

    code = "unsupported"


class ModelUnavailableError(EmbedlabError):
    """A model that cannot be loaded here (no network for a hub id, files missing)."""

    code = "model_unavailable"
    status = 503


class DamagedError(EmbedlabError):
    """Stored files that are damaged or inconsistent; the message names the file and how to repair it."""

    code = "damaged"
    status = 500


class BusyError(EmbedlabError):
    """Another process is writing the collection and the caller asked not to wait (wait=False, --no-wait)."""

    code = "busy"
    status = 409


class Interrupted(BaseException):
    """Ctrl-C (SIGINT) or SIGTERM, raised by the command line's signal handlers.

    Not an `Exception`, so no `except Exception` swallows it; cleanup in `finally` blocks runs. Code that
    knows what an interrupt leaves behind sets `kept` (one line, e.g. "kept 8,000 of 20,000 items").
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def record_kept(exc: BaseException, line: str) -> None:
    """Say on an interrupt (Ctrl-C, SIGTERM, KeyboardInterrupt) what was kept; the outermost caller has the last word."""
    if not isinstance(exc, Exception):
        exc.kept = line  # type: ignore[attr-defined]


def close_matches(word: str, choices: Iterable[str], n: int = 5) -> list[str]:
    """The choices that look most like `word` (for 'did you mean' hints)."""
    return difflib.get_close_matches(word, list(choices), n=n, cutoff=0.5)


def shorten(items: Iterable[str], limit: int = 10, sep: str = ", ") -> str:
    """The first `limit` items joined; when some are left out, an ellipsis and the total count follow."""
    items = list(items)
    shown = sep.join(items[:limit])
    return shown if len(items) <= limit else f"{shown}{sep}… ({len(items)} in all)"


__all__ = [
    "AlreadyExistsError",
    "BusyError",
    "DamagedError",
    "EmbedlabError",
    "EmptyInputError",
    "Interrupted",
    "ModelMismatchError",
    "ModelUnavailableError",
    "NotFittedError",
    "NotFoundError",
    "UnsupportedInputError",
    "close_matches",
    "record_kept",
    "shorten",
]
