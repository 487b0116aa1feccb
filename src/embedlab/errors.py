"""One error type for everything a user can get wrong, with a hint that says what to do."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class EmbedlabError(ValueError):
    """A problem with the user's input or set-up. The CLI prints it and exits with code 2."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message}\n  hint: {hint}" if hint else message)


def close_matches(word: str, choices: Iterable[str], n: int = 5) -> list[str]:
    """The choices that look most like `word` (for 'did you mean' hints)."""
    return difflib.get_close_matches(word, list(choices), n=n, cutoff=0.5)
