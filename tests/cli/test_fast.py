"""The command line starts without the heavy libraries: `--help` and argument parsing import no numpy,
torch, transformers, lancedb, umap, plotly, gensim or FastAPI (timings: benchmarks/cli_startup.py)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "numpy",
    "torch",
    "transformers",
    "lancedb",
    "pyarrow",
    "umap",
    "plotly",
    "gensim",
    "sklearn",
    "fastapi",
    "PIL",
)


def imported_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nsys.stderr.write('IMPORTED ' + ' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    return done.stderr.rpartition("IMPORTED ")[2].split()


def test_help_imports_no_heavy_library():
    code = (
        "import sys\nfrom embedlab.cli import main\nsys.argv = ['embedlab', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    assert imported_after(code) == []


def test_every_command_module_is_light():
    from embedlab.cli import COMMAND_MODULES

    code = "\n".join(f"import embedlab.cli.{m}" for m in COMMAND_MODULES)
    assert imported_after(code) == []


def test_search_through_a_server_needs_no_store_libraries():
    code = (
        "import sys\nfrom embedlab.cli import main\n"
        "sys.argv = ['embedlab', 'search', 'news', 'floods', '--server', 'http://127.0.0.1:1']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    assert imported_after(code) == []  # (no server there: the command fails after parsing, as intended)


def test_inlined_defaults_match_the_library():
    from embedlab.cli import images as cli_images
    from embedlab.images import DEFAULT_MAX_PIXELS, DEFAULT_TEMPLATE

    assert cli_images.DEFAULT_TEMPLATE == DEFAULT_TEMPLATE
    assert cli_images.DEFAULT_MAX_PIXELS == DEFAULT_MAX_PIXELS
