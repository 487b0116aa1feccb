"""Run the examples of README.md and docs/*.md and compare what they print with what the documents show.

A document is read top to bottom. Its fenced blocks that hold `$ ` command lines (```console, or a bare
```/```bash fence) are run in order, in one temporary working folder per document, with a temporary
store, cache and signing-key folder (so nothing of the user's is read or written). Lines after a command,
up to the next command, are its shown output. ```python blocks run too, in a fresh interpreter in the
same folder; an expression followed by a `# value` comment line must give that value.

How output is compared (`lines_match`):

- ids, words, order and every integer: exactly (after collapsing spaces and the length of table borders);
- floats: within FLOAT_ABS (absolute) or FLOAT_REL (relative), whichever is larger;
- timings (`4.5s`, `7.2 s`, `336,309 words/s`, `0:00:07`): ignored;
- a line that is only `...` or `…` stands for any number of lines; `…`/`...` inside a line stands for any
  text (a cut row or list); a block with any ellipsis is an excerpt: its lines must appear in this order,
  other lines may come between. A block without one must match line for line, nothing more.
- Progress bars and library warnings on stderr are dropped; the rest of stderr (errors, summaries) counts.
- A command whose shown output starts with `error:` must exit with 2, others with 0.

A block is marked in the document by an HTML comment on the line before it (invisible on GitHub):

    <!-- docs-check: skip (why) -->    never run (network downloads, half-hour benchmarks, timing output)
    <!-- docs-check: slow (why) -->    run only by `make docs-check`, not by `make test`

Usage: `python tests/docs_check.py [--all] [FILE.md ...]` (what `make docs-check` runs), or the pytest
wrapper tests/test_docs.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOAT_ABS = 0.002
FLOAT_REL = 0.005
MARK = re.compile(r"<!--\s*docs-check:\s*(skip|slow)\b\s*(?:\((.*?)\))?\s*-->")
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=(\$\(.*\)|\"[^\"]*\"|'[^']*'|[^\s;&|]*)")
FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
ELLIPSIS = re.compile(r"\.\.\.|…")
NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?(?![\w])")
TIMING = re.compile(
    r"(?<![\w.])\d[\d,]*(?:\.\d+)?\s?(?:s|ms|sec)\b(?!/)"  # 4.5s, 7.2 s, 0.03 s
    r"|(?<![\w.])\d[\d,]*(?:\.\d+)?\s?(?:words|items|texts|q|it|item)/s\b"  # throughput
    r"|\b\d+:\d\d:\d\d\b|\b\d+:\d\d\b"  # 0:00:07 (elapsed)
)
BOX = "─━│┃┌┐└┘├┤┬┴┼┏┓┗┛┣┫┳┻╋┡┩╇╈┯┷┿╭╮╯╰═║╒╕╘╛╞╡╤╧╪"
NOISE = (
    re.compile(r"\d+%\|"),  # tqdm bars
    re.compile(r"^\s*\[transformers\]"),
    re.compile(r"^\s*(Warning|warnings\.warn|\S+Warning:)"),
    re.compile(r"━+.*\d+/\d+"),  # rich progress bars
)


@dataclass
class Command:
    line: int  # 1-based line of the `$ ` in the document
    command: str
    expected: list[str]


@dataclass
class Block:
    path: Path
    line: int
    lang: str
    text: str
    commands: list[Command] = field(default_factory=list)
    mark: str | None = None  # "skip" or "slow"
    reason: str = ""

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def parse(path: Path) -> list[Block]:
    """The runnable blocks of a Markdown file: console blocks with `$ ` commands, and python blocks."""
    lines = path.read_text(encoding="utf-8").split("\n")
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, lang = len(opening.group(1)), opening.group(2)
        end = i + 1
        while end < len(lines) and not re.match(r"^\s*```\s*$", lines[end]):
            end += 1
        body = [line[indent:] if line[:indent].strip() == "" else line for line in lines[i + 1 : end]]
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        mark = MARK.search(before)
        block = Block(
            path, i + 1, lang, "\n".join(body), mark=mark and mark.group(1), reason=mark and mark.group(2) or ""
        )
        if lang == "python":
            blocks.append(block)
        elif lang in ("", "console", "bash", "shell") and any(b.startswith("$ ") for b in body):
            block.commands = _commands(body, i + 2)
            blocks.append(block)
        i = end + 1
    return blocks


def _commands(body: list[str], first_line: int) -> list[Command]:
    commands: list[Command] = []
    k = 0
    while k < len(body):
        if body[k].startswith("$ "):
            start, text = k, body[k][2:]
            while text.endswith("\\") and k + 1 < len(body):
                k += 1
                text = text[:-1] + " " + body[k].strip()
            commands.append(Command(first_line + start, text, []))
        elif commands:
            commands[-1].expected.append(body[k])
        k += 1
    for command in commands:
        while command.expected and not command.expected[-1].strip():
            command.expected.pop()
    return commands


# ---- comparing output ---------------------------------------------------------------------------


def _normal(text: str) -> str:
    text = re.sub(f"([{BOX}])\\1+", r"\1", text)  # table borders: the length of a rule is layout, not content
    text = re.sub(f"\\s*([{BOX}])\\s*", r" \1 ", text)
    return re.sub(r"\s+", " ", text).strip()


def _numbers_close(shown: str, got: str) -> bool:
    a, b = shown.replace(",", ""), got.replace(",", "")
    if re.fullmatch(r"[-+]?\d+", a) and re.fullmatch(r"[-+]?\d+", b):
        return int(a) == int(b)
    try:
        x, y = float(a), float(b)
    except ValueError:
        return a == b
    return abs(x - y) <= max(FLOAT_ABS, FLOAT_REL * abs(x))


def _pattern(expected: str) -> tuple[re.Pattern[str], list[str]]:
    """A regex for one shown line: numbers become groups (checked with tolerance), timings and ellipses wildcards."""
    numbers: list[str] = []
    parts: list[str] = []
    position = 0
    tokens = re.compile(f"(?P<t>{TIMING.pattern})|(?P<e>{ELLIPSIS.pattern})|(?P<n>{NUMBER.pattern})")
    for match in tokens.finditer(expected):
        parts.append(re.escape(expected[position : match.start()]))
        if match.group("t"):
            parts.append(r"\S+(?: ?(?:s|ms|sec|\S+/s)\b)?")
        elif match.group("e"):
            parts.append(".*?")
        else:
            numbers.append(match.group("n"))
            parts.append(r"([-+]?[\d,]*\.?\d+(?:e[-+]?\d+)?)")
        position = match.end()
    parts.append(re.escape(expected[position:]))
    body = "".join(parts).replace(r"\ ", " ").replace(" ", r"\s*")
    ends_open = bool(ELLIPSIS.search(expected.rstrip()[-3:]))
    return re.compile("^" + body + ("" if ends_open else "$")), numbers


def line_matches(expected: str, actual: str) -> bool:
    shown, got = _normal(expected), _normal(actual)
    if shown == got:
        return True
    pattern, numbers = _pattern(shown)
    match = pattern.match(got)
    if not match:
        return False
    return all(_numbers_close(n, g) for n, g in zip(numbers, match.groups(), strict=True))


def clean_output(text: str) -> list[str]:
    """Output lines without progress bars (carriage-return redraws) and library warnings."""
    lines = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.split("\r")[-1].rstrip()
        if any(p.search(line) for p in NOISE):
            continue
        lines.append(line)
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    return lines


def lines_match(expected: list[str], actual: list[str]) -> str | None:
    """None when the shown lines match the output, else a message naming the first difference."""
    shown = [e for e in expected if e.strip() and not any(p.search(e) for p in NOISE)]
    got = [a for a in actual if a.strip()]
    excerpt = any(ELLIPSIS.search(e) for e in shown)
    k = 0
    gap = False
    for e in shown:
        if ELLIPSIS.fullmatch(e.strip()):
            gap = True
            continue
        if excerpt or gap:
            while k < len(got) and not line_matches(e, got[k]):
                k += 1
            if k == len(got):
                return f"shown line not in the output (in this order): {e.strip()!r}"
        elif k >= len(got) or not line_matches(e, got[k]):
            return f"shown {e.strip()!r}\n   got {got[k].strip() if k < len(got) else '(end of output)'!r}"
        k += 1
        gap = False
    if not excerpt and not gap and k < len(got):
        return f"the output goes on after what is shown: {got[k].strip()!r}"
    return None


# ---- running ------------------------------------------------------------------------------------


def environment(work: Path) -> dict[str, str]:
    """The documents' commands run with this checkout's embedlab and nothing of the user's."""
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env.update(
        PATH=bin_dir + os.pathsep + env.get("PATH", ""),
        PYTHONPATH=str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", ""),
        EMBEDLAB_STORE=str(work / ".store"),
        EMBEDLAB_CACHE=str(work / ".cache"),
        EMBEDLAB_CONFIG_DIR=str(work / ".config"),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        NO_COLOR="1",
        TERM="dumb",
        PYTHONHASHSEED="random",
    )
    env.pop("FORCE_COLOR", None)
    return env


def _width(expected: list[str]) -> int:
    """The terminal width the shown output was made at: 100 columns, or its widest table when wider; rows
    cut by hand (`… │`) were copied from an unwrapped table, so those run 400 wide."""
    if any(ELLIPSIS.search(e) and any(c in e for c in "│┃") for e in expected):
        return 400
    return max([100] + [len(e) for e in expected if any(c in e for c in BOX)])


@dataclass
class Failure:
    where: str
    command: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: $ {self.command}\n   {self.message}"


class Session:
    """One document's working folder and shell variables (`NAME=$(...)` lines carry to later commands)."""

    def __init__(self, work: Path, timeout: int = 1800) -> None:
        self.work, self.timeout = work, timeout
        self.env = environment(work)
        self.assignments: list[str] = []

    def shell(self, command: str, columns: int = 100) -> subprocess.CompletedProcess[str]:
        script = "\n".join([*self.assignments, command])
        env = {**self.env, "COLUMNS": str(columns)}
        return subprocess.run(  # stderr into the same pipe, so notes and tables keep their order
            ["bash", "-c", script],
            cwd=self.work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=self.timeout,
        )

    def run_command(self, block: Block, command: Command) -> Failure | None:
        where = f"{block.path.relative_to(ROOT)}:{command.line}"
        if ASSIGNMENT.fullmatch(command.command.strip()):  # `LEE=$(...)`, not `VAR=x embedlab ...`
            self.assignments.append(command.command)
        done = self.shell(command.command, _width(command.expected))
        output = clean_output(done.stdout)
        wants_error = bool(command.expected) and command.expected[0].strip().startswith("error:")
        if wants_error and done.returncode != 2:
            return Failure(where, command.command, f"expected exit code 2, got {done.returncode}")
        if not wants_error and done.returncode != 0:
            tail = "\n   ".join(output[-15:])
            return Failure(where, command.command, f"exit code {done.returncode}:\n   {tail}")
        if command.expected:
            problem = lines_match(command.expected, output)
            if problem:
                shown = "\n      ".join(output[:60])
                return Failure(where, command.command, f"{problem}\n   whole output:\n      {shown}")
        return None

    def run_python(self, block: Block) -> Failure | None:
        done = subprocess.run(
            [sys.executable, "-c", PYTHON_HARNESS, block.text],
            cwd=self.work,
            env={**self.env, "COLUMNS": "100"},
            capture_output=True,
            text=True,
            timeout=self.timeout,
        )
        if done.returncode != 0:
            return Failure(block.where, "python block", "\n   ".join((done.stderr or done.stdout).splitlines()[-15:]))
        for line in done.stdout.splitlines():
            if line.startswith("DOCS-CHECK "):
                shown, got, lineno = json.loads(line[len("DOCS-CHECK ") :])
                if lines_match([shown], [got]):
                    return Failure(block.where, f"python line {lineno}", f"shown # {shown}\n   got   # {got}")
        return None


# Runs a python block statement by statement; an expression statement followed by a `# value` comment
# line prints both, and the checker compares them like console output.
PYTHON_HARNESS = r"""
import ast, contextlib, io, json, sys
source = sys.argv[1]
lines = source.split("\n")
tree = ast.parse(source)
namespace = {"__name__": "__main__"}
for node in tree.body:
    code = compile(ast.Module([node], []), "<docs>", "exec")
    following = lines[node.end_lineno].strip() if node.end_lineno < len(lines) else ""
    same_line = lines[node.end_lineno - 1].split("  # ", 1)
    shown = same_line[1].strip() if len(same_line) == 2 else following[2:] if following.startswith("# ") else ""
    if isinstance(node, ast.Expr) and shown[:1] and shown[0] in "[({'\"-0123456789<":
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):  # print(x)  # value: what it printed is what is shown
            value = eval(compile(ast.Expression(node.value), "<docs>", "eval"), namespace)
        got = printed.getvalue().strip() if value is None and printed.getvalue() else repr(value)
        print("DOCS-CHECK " + json.dumps([shown, got, node.lineno]), flush=True)
    else:
        exec(code, namespace)
"""


def run_document(path: Path, full: bool, setup: list[str] | None = None, log=print) -> list[Failure]:
    """Run every runnable block of one document (the slow ones too when `full`); returns the failures."""
    failures: list[Failure] = []
    with tempfile.TemporaryDirectory(prefix="docs-") as folder:
        session = Session(Path(folder))
        for command in (setup or []) if full else []:  # the blocks that need it are marked slow
            done = session.shell(command)
            if done.returncode != 0:
                return [Failure(str(path.relative_to(ROOT)), command, f"setup failed: {done.stderr[-2000:]}")]
        for block in parse(path):
            if block.mark == "skip" or (block.mark == "slow" and not full):
                log(f"  skip {block.where} ({block.mark}: {block.reason})")
                continue
            if block.lang == "python":
                failure = session.run_python(block)
                failures += [failure] if failure else []
                log(f"  {'FAIL' if failure else 'ok  '} {block.where} python block")
                continue
            for command in block.commands:
                failure = session.run_command(block, command)
                failures += [failure] if failure else []
                log(
                    f"  {'FAIL' if failure else 'ok  '} {block.path.relative_to(ROOT)}:{command.line} $ {command.command}"
                )
    return failures


# Commands a document assumes were run before it (outside any block). Each one is said in the document.
SETUP: dict[str, list[str]] = {
    # "`embedlab demo` indexes the Lee corpus into the collection demo-news" (the maps need it)
    "docs/maps.md": ["embedlab demo --json > /dev/null"],
    # its first command is `embedlab demo`; `embedlab.explore("demo-news")` needs that collection
    "docs/explorer.md": ["embedlab demo --json > /dev/null"],
    # README's tour starts with `make demo`; its maps and its `demo-news` commands need the demo's collections
    "README.md": ["embedlab demo --json > /dev/null"],
}


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def main(argv: list[str]) -> int:
    full = "--all" in argv
    names = [a for a in argv if not a.startswith("--")]
    paths = [ROOT / n for n in names] if names else documents()
    failures: list[Failure] = []
    for path in paths:
        print(f"{path.relative_to(ROOT)}", flush=True)
        key = str(path.relative_to(ROOT))
        failures += run_document(path, full, SETUP.get(key), log=lambda m: print(m, flush=True))
    for failure in failures:
        print(f"\nFAIL {failure}")
    print(f"\n{len(failures)} difference(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
