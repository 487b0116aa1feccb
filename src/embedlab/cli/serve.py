"""`embedlab serve`: the HTTP server (OpenAI-compatible embeddings + the collections API) on uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from embedlab.cli.common import StoreOption, app, note


@app.command(rich_help_panel="Serve")
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on; other than loopback needs an API key.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="Model to load at start (repeat for several); others load on first use."),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            envvar="EMBEDLAB_API_KEY",
            help="Require 'Authorization: Bearer KEY' (or $EMBEDLAB_API_KEY).",
            show_default=False,
            show_envvar=False,
        ),
    ] = None,
    api_key_file: Annotated[
        Path | None, typer.Option("--api-key-file", help="Read the key from the first line of this file.")
    ] = None,
    allow_writes: Annotated[
        bool, typer.Option("--allow-writes", help="Allow adding items and dropping collections (read-only otherwise).")
    ] = False,
    max_models: Annotated[int, typer.Option(help="Models kept loaded at once (least recently used unloaded).")] = 4,
    encode_workers: Annotated[
        int | None,
        typer.Option(min=1, help="Batches a model encodes at once [default: min(2, cores) on a CPU, 1 on a GPU]."),
    ] = None,
    long_text: Annotated[
        str,
        typer.Option(
            "--long-text", help="Texts over a model's limit: window, truncate or error (per request: long_text)."
        ),
    ] = "window",
    cors_origins: Annotated[
        list[str] | None,
        typer.Option("--cors-origin", help="Allow browser calls from this origin (repeatable; off by default)."),
    ] = None,
    max_items: Annotated[int, typer.Option(help="Inputs per request.")] = 2048,
    max_chars: Annotated[int, typer.Option(help="Characters per input.")] = 32_768,
    max_body_mb: Annotated[float, typer.Option(help="Request body size limit in MiB.")] = 4.0,
    max_k: Annotated[int, typer.Option(help="Largest k a search may ask for.")] = 1000,
    explorer: Annotated[
        bool, typer.Option("--explorer/--no-explorer", help="Serve the web explorer at / (when installed).")
    ] = True,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="One JSON line per request on stderr.")
    ] = True,
    store: StoreOption = None,
) -> None:
    """Serve models and collections over HTTP: OpenAI-compatible /v1/embeddings, /v1/collections, /docs.

    Ctrl-C or SIGTERM stops taking new connections and lets requests in flight finish.
    """
    import logging
    import sys

    import uvicorn

    from embedlab.serve import app as build_app
    from embedlab.serve.auth import check_bind, resolve_key
    from embedlab.store import Store

    key = resolve_key(api_key, api_key_file)
    check_bind(host, key)
    if max_body_mb <= 0:
        raise typer.BadParameter("must be more than 0", param_hint="--max-body-mb")
    opened = Store(store)
    application = build_app(
        opened,
        models=model or (),
        api_key=key,
        allow_writes=allow_writes,
        max_models=max_models,
        encode_workers=encode_workers,
        long_text=long_text,
        cors_origins=cors_origins or (),
        explorer=explorer,
        max_items=max_items,
        max_chars=max_chars,
        max_body_bytes=int(max_body_mb * 1024 * 1024),
        max_k=max_k,
    )
    if access_log:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger = logging.getLogger("embedlab.access")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    note(
        f"embedlab serve: store {opened.path}; {'writes allowed' if allow_writes else 'read-only'}; "
        f"{'API key required' if key else 'no API key'}; API docs at http://{shown}:{port}/docs"
    )
    uvicorn.run(application, host=host, port=port, access_log=False, timeout_graceful_shutdown=30, log_level="info")
