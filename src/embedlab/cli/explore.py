"""`embedlab explore`: the web explorer on a free loopback port, opened in the browser when there is one."""

from __future__ import annotations

import os
import sys
import threading
import webbrowser
from typing import Annotated
from urllib.parse import quote

import typer

from embedlab.cli.common import StoreOption, app, console, note


def has_browser() -> bool:
    """A graphical browser can be opened: macOS, Windows, or a Linux/BSD desktop session (not over plain SSH)."""
    if sys.platform in ("darwin", "win32"):
        return True
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False  # webbrowser would fall back to a text browser (lynx, w3m) inside this terminal
    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


@app.command("explore", rich_help_panel="See and evaluate")
def explore_command(
    collection: Annotated[
        str | None, typer.Argument(help="Collection to open (default: the list of collections).", show_default=False)
    ] = None,
    store: StoreOption = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: a free one).")] = 0,
    browser: Annotated[bool, typer.Option("--browser/--no-browser", help="Open the page in a browser.")] = True,
    api_key: Annotated[
        str | None,
        typer.Option(envvar="EMBEDLAB_API_KEY", help="Require this key (Bearer) on the API.", show_default=False),
    ] = None,
) -> None:
    """Search, map, compare and explore words in the browser (stop with Ctrl-C). Local only: 127.0.0.1."""
    from embedlab.store import Store

    opened = Store(store)
    if collection is not None:
        opened.collection(collection)  # an unknown name fails here, with its suggestions
    from embedlab.serve import app as build_app
    from embedlab.serve.explorer.launch import bind, server_for

    sock = bind(port)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/" + (
        f"#/map/{quote(collection, safe='')}" if collection else "#/collections"
    )
    server = server_for(build_app(store=opened, api_key=api_key))
    console.print(f"embedlab explorer: {url}", soft_wrap=True, highlight=False)
    if browser and has_browser():

        def open_when_up() -> None:
            while not server.started and not server.should_exit:
                threading.Event().wait(0.05)
            if server.started:
                webbrowser.open(url)

        threading.Thread(target=open_when_up, daemon=True).start()
    elif browser:
        note("no browser here: open the URL above (e.g. through an SSH tunnel).")
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
