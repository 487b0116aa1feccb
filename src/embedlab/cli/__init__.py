"""The `embedlab` command line: a thin typer layer over the library.

Each concern has its own module that adds commands to `app`. Errors a user can fix
(EmbedlabError) are printed without a traceback and exit with code 2.
"""

from __future__ import annotations

import importlib
import sys

import typer

from embedlab.cli.common import app, err_console, print_error
from embedlab.errors import EmbedlabError

# Importing a module registers its commands on `app`; this order is the order of `embedlab --help`.
COMMAND_MODULES = ("demo", "datasets", "core", "collections", "images", "words", "finetune", "maps", "evaluate")
for _module in COMMAND_MODULES:
    importlib.import_module(f"embedlab.cli.{_module}")


def main() -> None:
    """Console-script entry point."""
    try:
        app(standalone_mode=False)
    except EmbedlabError as exc:
        print_error(exc.message, exc.hint, exc.param)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted.")
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted: everything written before this point is kept.")
        sys.exit(130)
    except Exception as exc:  # usage errors: typer >= 0.29 vendors its own click, so match by shape, not class
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            sys.exit(exit_code)
        raise


__all__ = ["app", "main"]
