"""The `embedlab` command line: a thin typer layer over the library.

Each concern has its own module that adds commands to `app`. Errors a user can fix
(EmbedlabError) are printed without a traceback and exit with code 2. Ctrl-C and SIGTERM end every
command with 130 / 143 and one line saying what was kept.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any


def _interrupted_while_starting(signum: int, frame: Any) -> None:
    """Ctrl-C or SIGTERM while the command modules load: nothing has been written yet."""
    name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
    sys.stderr.write(f"interrupted ({name}) while starting: nothing was written.\n")
    os._exit(128 + signum)


_STARTING: dict[int, Any] = {}
if threading.current_thread() is threading.main_thread():  # loading the commands takes a second or two
    for _signum in (signal.SIGINT, signal.SIGTERM):
        _STARTING[_signum] = signal.signal(_signum, _interrupted_while_starting)

import importlib  # noqa: E402

import typer  # noqa: E402

from embedlab.cli.common import app, err_console, print_error  # noqa: E402
from embedlab.errors import EmbedlabError, Interrupted  # noqa: E402

# Importing a module registers its commands on `app`; this order is the order of `embedlab --help`.
COMMAND_MODULES = (
    "demo", "datasets", "core", "collections", "images", "words", "finetune", "maps", "evaluate", "serve", "explore",
)
for _module in COMMAND_MODULES:
    importlib.import_module(f"embedlab.cli.{_module}")
for _signum, _handler in _STARTING.items():  # importing this module changes no handler for good
    signal.signal(_signum, _handler)


GENERIC_KEPT = "files and collections are written whole or not at all; run the same command again to finish"


def _raise_interrupted(signum: int, frame: Any) -> None:
    raise Interrupted(signum)


def interrupted(signum: int, exc: BaseException) -> None:
    """Say what was kept, in one line, and exit 128 + the signal (130 for Ctrl-C, 143 for SIGTERM)."""
    name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
    kept = getattr(exc, "kept", None) or GENERIC_KEPT
    err_console.print(f"interrupted ({name}): {kept}.", highlight=False, markup=False)
    sys.exit(128 + signum)


def main(standalone: bool = True) -> None:
    """Console-script entry point. `standalone=False` (tests calling it in-process) restores the signal handlers
    afterwards; the command line instead ignores Ctrl-C/SIGTERM once the command is done, so a signal that lands
    while the interpreter shuts down cannot turn a finished command into a failure."""
    handlers: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        # Raised as `Interrupted`, not KeyboardInterrupt: typer turns a KeyboardInterrupt into a return value
        # of 130 and drops it; this reaches main() with what the command says it kept.
        for signum in (signal.SIGINT, signal.SIGTERM):
            handlers[signum] = signal.signal(signum, _raise_interrupted)
    try:
        code = app(standalone_mode=False)
    except Interrupted as exc:
        interrupted(exc.signum, exc)
    except KeyboardInterrupt as exc:
        interrupted(signal.SIGINT, exc)
    except EmbedlabError as exc:
        print_error(exc.message, exc.hint, exc.param)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted.")
        sys.exit(1)
    except Exception as exc:  # usage errors: typer >= 0.29 vendors its own click, so match by shape, not class
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            sys.exit(exit_code)
        raise
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler if not standalone else signal.SIG_IGN)
    if code == 130:  # a KeyboardInterrupt that typer caught itself (not raised by our handler)
        interrupted(signal.SIGINT, KeyboardInterrupt())
    if isinstance(code, int) and code:  # typer.Exit(code) inside a command comes back as a return value
        sys.exit(code)


__all__ = ["app", "main"]
