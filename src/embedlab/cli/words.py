"""Word and document vectors: `embedlab train`, `neighbors`, `analogy`, `oov`, `bias`, `infer`, `doc-neighbors`,
`export-vectors`. The logic lives in `embedlab.words`; this module parses and prints."""

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from embedlab.cli.common import JsonOption, app, console, err_console, note, print_json
from embedlab.errors import EmbedlabError

if TYPE_CHECKING:
    import numpy as np

train_app = typer.Typer(
    help="Train word2vec, fastText or doc2vec (gensim) on a corpus; or a classifier head, an embedding layer "
    "(bag) or a contrastive fine-tune of a sentence encoder.",
    no_args_is_help=True,
)
PANEL = "Words and documents"
app.add_typer(train_app, name="train", rich_help_panel=PANEL)
logging.getLogger("gensim").setLevel(logging.WARNING)  # its INFO lines would drown the output

ModelArg = Annotated[
    str, typer.Argument(help="Static model: word2vec:DIR, fasttext:DIR, doc2vec:DIR, vectors:PATH or wordllama.")
]
KOption = Annotated[int, typer.Option("-k", "--top", help="How many results.")]


def _train(
    kind: str, corpus: Path, output: Path, text_column: str | None, overwrite: bool, as_json: bool, **knobs: Any
) -> None:
    from embedlab.words import Corpus, TrainOptions, train

    options = TrainOptions(**knobs)
    source = Corpus(corpus, text_column=text_column, lowercase=options.lowercase)
    with Progress(
        TextColumn(f"training {kind}"),
        BarColumn(),
        TextColumn("epoch {task.completed}/{task.total}"),
        TextColumn("{task.fields[speed]}"),
        TimeElapsedColumn(),
        console=err_console,
        disable=as_json,
        transient=False,
    ) as bar:
        task = bar.add_task(kind, total=options.epochs, speed="")

        def progress(done: int, total: int, words_per_second: float) -> None:
            bar.update(task, completed=done, speed=f"{words_per_second:,.0f} words/s")

        result = train(kind, source, output, options, overwrite=overwrite, progress=progress)
    if as_json:
        print_json(result.as_dict())
        return
    note(
        f"saved {kind} model to {result.path}: vocabulary {result.vocabulary:,} words, "
        f"{result.documents:,} lines, {result.corpus_words:,} corpus words, trained in {result.seconds:.1f} s "
        f"({result.words_per_second:,.0f} words/s). Load it as {kind}:{result.path}"
    )


def _train_command(kind: str, default_epochs: int, sg_help: str) -> None:
    def command(
        corpus: Annotated[
            Path,
            typer.Argument(
                help="Text file (one sentence/document per line), CSV/JSONL/Parquet, or a folder of .txt files."
            ),
        ],
        output: Annotated[Path, typer.Option("--output", "-o", help="Model folder to write.")],
        text_column: Annotated[str | None, typer.Option(help="Column with the text (CSV/JSONL/Parquet).")] = None,
        dim: Annotated[int, typer.Option(help="Vector size.")] = 100,
        window: Annotated[int, typer.Option(help="Context window.")] = 5,
        min_count: Annotated[int, typer.Option(help="Ignore words rarer than this.")] = 5,
        epochs: Annotated[int, typer.Option(help="Passes over the corpus.")] = default_epochs,
        sg: Annotated[bool, typer.Option("--sg/--cbow", help=sg_help)] = False,
        negative: Annotated[int, typer.Option(help="Negative samples.")] = 5,
        workers: Annotated[int, typer.Option(help="Threads (results repeat exactly only with 1).")] = 3,
        seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
        min_n: Annotated[int, typer.Option(help="fastText: shortest character n-gram.")] = 3,
        max_n: Annotated[int, typer.Option(help="fastText: longest character n-gram.")] = 6,
        buckets: Annotated[
            int, typer.Option(help="fastText: hash buckets for n-grams (file size ~ buckets x dim).")
        ] = 2_000_000,
        keep_case: Annotated[bool, typer.Option("--keep-case", help="Do not lowercase the corpus.")] = False,
        overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing model folder.")] = False,
        as_json: JsonOption = False,
    ) -> None:
        _train(
            kind, corpus, output, text_column, overwrite, as_json,
            dim=dim, window=window, min_count=min_count, epochs=epochs, sg=sg, negative=negative,
            workers=workers, seed=seed, min_n=min_n, max_n=max_n, buckets=buckets, lowercase=not keep_case,
        )  # fmt: skip

    command.__doc__ = f"Train {kind} on CORPUS and save it to the folder -o; reports vocabulary size and time."
    train_app.command(kind)(command)


_train_command("word2vec", 5, "Skip-gram (--sg) or CBOW (--cbow, default).")
_train_command("fasttext", 5, "Skip-gram (--sg) or CBOW (--cbow, default).")
_train_command("doc2vec", 10, "--sg: PV-DBOW with word training; --cbow (default): PV-DM.")


def _print_neighbors(result: Any, title: str) -> None:
    for status in result.query:
        if status.status != "in vocabulary":
            note(f"{status.word!r} is {status.status}")
    console.print(f"{title}", highlight=False)
    table = Table()
    table.add_column("#", justify="right")
    table.add_column("word")
    table.add_column("cosine" if result.method != "3cosmul" else "3cosmul", justify="right")
    for rank, (word, score) in enumerate(result.neighbors, start=1):
        table.add_row(str(rank), word, f"{score:.4f}")
    console.print(table)


@app.command(rich_help_panel=PANEL)
def neighbors(
    model: ModelArg,
    word: Annotated[str, typer.Argument(help="The word.")],
    k: KOption = 10,
    as_json: JsonOption = False,
) -> None:
    """Nearest words to WORD by cosine; says when the word is out of vocabulary (fastText: built from subwords)."""
    from embedlab.words import load

    result = load(model).neighbors(word, k)
    if as_json:
        print_json(result.as_dict())
        return
    _print_neighbors(result, f"{result.model}: nearest to {word!r}")


@app.command(rich_help_panel=PANEL)
def analogy(
    model: ModelArg,
    a: Annotated[str, typer.Argument(help="A (man)")],
    b: Annotated[str, typer.Argument(help="B (king)")],
    c: Annotated[str, typer.Argument(help="C (woman)")],
    k: KOption = 5,
    method: Annotated[
        str, typer.Option(help="3cosadd (gensim most_similar) or 3cosmul (most_similar_cosmul).")
    ] = "3cosadd",
    exclude: Annotated[
        str,
        typer.Option(
            help="case-variants: leave out A, B, C in every letter case (Woman for woman); "
            "inputs: only the three input words, exactly as gensim's most_similar."
        ),
    ] = "case-variants",
    as_json: JsonOption = False,
) -> None:
    """A is to B as C is to ?  The input words, in every letter case, are left out of the answers
    (--exclude inputs: only the inputs themselves, as gensim's most_similar)."""
    from embedlab.words import load

    result = load(model).analogy(a, b, c, k, method, exclude)
    if as_json:
        print_json(result.as_dict())
        return
    _print_neighbors(result, f"{result.model}: {a} : {b} :: {c} : ?  ({method})")


@app.command(rich_help_panel=PANEL)
def oov(
    models: Annotated[str, typer.Argument(help="One model, or several separated by commas.")],
    file: Annotated[Path, typer.Argument(help="Text file (one text per line), CSV/JSONL/Parquet.")],
    text_column: Annotated[str | None, typer.Option(help="Column with the text (CSV/JSONL/Parquet).")] = None,
    top: Annotated[int, typer.Option(help="How many of the most frequent OOV words to list.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """Out-of-vocabulary rate of a text file (by tokens and by distinct words), per model."""
    from embedlab.words import Corpus, load

    corpus = Corpus(file, text_column=text_column, lowercase=False)
    names = [m.strip() for m in models.split(",") if m.strip()]
    if not names:
        raise EmbedlabError("no model given.", "e.g. embedlab oov word2vec:DIR,wordllama FILE")
    labs = [load(name) for name in names]
    reports = [lab.oov_report((d.text for d in corpus.documents()), top) for lab in labs]
    if as_json:
        print_json(reports)
        return
    console.print(f"out-of-vocabulary words in {file.name}", highlight=False)
    table = Table()
    for column in ("model", "tokens", "OOV tokens", "OOV rate", "distinct", "OOV distinct", "OOV words get"):
        table.add_column(column)
    for r in reports:
        table.add_row(
            r["model"], f"{r['tokens']:,}", f"{r['oov_tokens']:,}", f"{r['oov_rate']:.2%}", f"{r['types']:,}",
            f"{r['oov_types']:,}", r["oov_handling"],
        )  # fmt: skip
    console.print(table)
    for r in reports:
        words = ", ".join(f"{o['word']} ({o['count']})" for o in r["top_oov"])
        console.print(f"most frequent OOV for {r['model']}: {words or '-'}", highlight=False)


@app.command(rich_help_panel=PANEL)
def bias(
    model: Annotated[str | None, typer.Argument(help="Static model, or a sentence encoder (SEAT-style).")] = None,
    weat: Annotated[
        tuple[str, str, str, str] | None,
        typer.Option(
            "--weat",
            help="TARGET_X TARGET_Y ATTR_A ATTR_B: set names (see --list), 'a,b,c' lists or @FILE.",
            show_default=False,
        ),
    ] = None,
    test: Annotated[
        str | None, typer.Option("--test", help="A named test of Caliskan et al. 2017: weat1 ... weat10.")
    ] = None,
    direct: Annotated[bool, typer.Option("--direct", help="Direct bias along a he-she direction.")] = False,
    pair: Annotated[str, typer.Option(help="The two words of the direction, comma-separated.")] = "he,she",
    words: Annotated[str | None, typer.Option(help="Neutral words for --direct: set name, 'a,b,c' or @FILE.")] = None,
    seat: Annotated[
        bool,
        typer.Option(
            "--seat",
            help="Embed words in sentence templates with the model as an encoder (multi-token words of wordllama work).",
        ),
    ] = False,
    permutations: Annotated[int, typer.Option(help="Random re-partitions when the exact test is too large.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed for the random re-partitions.")] = 0,
    list_tests: Annotated[bool, typer.Option("--list", help="List the shipped tests and word sets.")] = False,
    as_json: JsonOption = False,
) -> None:
    """WEAT effect size and permutation p-value (Caliskan et al., 2017), and direct bias (Bolukbasi et al., 2016)."""
    from embedlab.words import bias as lib

    if list_tests:
        _list_weat(as_json)
        return
    if model is None:
        raise EmbedlabError("name a model.", "e.g. embedlab bias minilm --test weat1; --list shows the tests.")
    if not (weat or test or direct):
        raise EmbedlabError("choose --weat X Y A B, --test NAME or --direct.", "--list shows the named tests and sets.")
    if weat and test:
        raise EmbedlabError("give --weat or --test, not both.")
    target: Any = model
    if seat:
        from embedlab.encoders import load as load_encoder

        target = lib.TemplateWords(load_encoder(model))
    embedder = lib.embedder(target)
    out: dict[str, Any] = {}
    if weat or test:
        options = {"permutations": permutations, "seed": seed}
        result = lib.named_weat(embedder, test, **options) if test else lib.weat(embedder, *weat, **options)  # type: ignore[misc]
        out["weat"] = result.as_dict()
    if direct:
        parts = [p.strip() for p in pair.split(",")]
        if len(parts) != 2:
            raise EmbedlabError(f"--pair needs two words separated by a comma, got {pair!r}.")
        out["direct_bias"] = lib.direct_bias(embedder, words, (parts[0], parts[1]))
    if as_json:
        print_json(out)
        return
    if "weat" in out:
        r = out["weat"]
        x, y = r["targets"]
        a, b = r["attributes"]
        kind = "exact over all" if r["exact"] else f"seed {r['seed']},"
        console.print(
            f"WEAT {r['test']} on {r['model']}: {x} vs {y}, {a} vs {b}\n"
            f"  effect size d = {r['effect_size']:+.3f}   p = {r['p_value']:.4g} ({kind} {r['partitions']:,} partitions)\n"
            f"  words used: " + ", ".join(f"{k} {len(v)}" for k, v in r["words"].items())
        )
        for label, missing in r["dropped_oov"].items():
            note(f"{label}: {len(missing)} OOV word(s) dropped: {', '.join(missing)}")
        for label, built in r["from_subwords"].items():
            note(f"{label}: built from subwords: {', '.join(built)}")
    if "direct_bias" in out:
        d = out["direct_bias"]
        console.print(
            f"direct bias on {d['model']} along {d['direction']}: {d['direct_bias']:.4f} over {d['words']} words"
        )
        ends = [key for key in d if key.startswith("most_")]
        for key in ends:
            console.print(
                f"  {key.replace('_', ' ')}: " + ", ".join(f"{w['word']} ({w['projection']:+.2f})" for w in d[key])
            )
        if d["dropped_oov"]:
            note(f"OOV words dropped: {', '.join(d['dropped_oov'])}")


def _list_weat(as_json: bool) -> None:
    from embedlab.words import weat_data

    data = weat_data()
    if as_json:
        print_json(data)
        return
    table = Table(title="WEAT tests (Caliskan et al., 2017)")
    for column in ("test", "title", "targets", "attributes"):
        table.add_column(column, overflow="fold")
    for name, t in data["tests"].items():
        table.add_row(name, t["title"], " vs ".join(t["targets"]), " vs ".join(t["attributes"]))
    console.print(table)
    console.print("sets: " + ", ".join(f"{k} ({len(v)})" for k, v in data["sets"].items()))
    console.print(f"source: {data['source']}")


@app.command(rich_help_panel=PANEL)
def infer(
    model: Annotated[str, typer.Argument(help="doc2vec:DIR")],
    texts: Annotated[list[str], typer.Argument(help="New documents.")],
    k: KOption = 5,
    seed: Annotated[int, typer.Option(help="Seed: the same text and seed give the same vector.")] = 0,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the vectors to a .npy file.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Infer doc2vec vectors for new documents and show the nearest training documents."""
    import numpy as np

    from embedlab.encoders.words import open_doc2vec

    if output is not None and output.suffix != ".npy":
        raise EmbedlabError(f"{output} must end in .npy.")
    doc2vec = open_doc2vec(model)
    vectors = np.vstack([doc2vec.infer(text, seed) for text in texts])
    snippets = doc2vec.texts()
    rows = [
        {
            "text": text,
            "vector": [round(float(v), 6) for v in vector] if as_json else None,
            "neighbors": [
                {"tag": tag, "score": round(score, 6), "text": snippets.get(tag, "")}
                for tag, score in doc2vec.neighbors_of_vector(vector, k)
            ],
        }
        for text, vector in zip(texts, vectors, strict=True)
    ]
    if output is not None:
        _save_npy(output, vectors)
        note(f"wrote {vectors.shape[0]} vectors of dim {vectors.shape[1]} to {output}")
    if as_json:
        print_json({"model": model, "seed": seed, "results": rows})
        return
    for row in rows:
        _print_docs(row["neighbors"], f"nearest training documents to {row['text'][:60]!r}")


@app.command("doc-neighbors", rich_help_panel=PANEL)
def doc_neighbors(
    model: Annotated[str, typer.Argument(help="doc2vec:DIR")],
    tag: Annotated[str, typer.Argument(help="Tag of a training document (its line number, id column or FILE:LINE).")],
    k: KOption = 5,
    as_json: JsonOption = False,
) -> None:
    """The training documents closest to one training document."""
    from embedlab.encoders.words import open_doc2vec

    doc2vec = open_doc2vec(model)
    snippets = doc2vec.texts()
    rows = [{"tag": t, "score": round(s, 6), "text": snippets.get(t, "")} for t, s in doc2vec.neighbors(tag, k)]
    if as_json:
        print_json({"model": model, "tag": tag, "text": snippets.get(tag, ""), "neighbors": rows})
        return
    note(f"{tag}: {snippets.get(tag, '')[:100]}")
    _print_docs(rows, f"documents nearest to {tag}")


@app.command("export-vectors", rich_help_panel=PANEL)
def export_vectors(
    model: ModelArg,
    output: Annotated[Path, typer.Argument(help="File to write.")],
    binary: Annotated[bool, typer.Option("--binary/--text", help="word2vec binary or text format.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Export a model's word vectors in word2vec text or binary format (readable by gensim, fastText tools ...)."""
    from embedlab.words import export_vectors as export

    result = export(model, output, binary)
    if as_json:
        print_json(result)
        return
    note(f"wrote {result['words']:,} words x {result['dim']} dims to {result['path']} ({result['format']})")


def _save_npy(path: Path, vectors: "np.ndarray") -> None:
    from embedlab.io.files import save_npy

    path.parent.mkdir(parents=True, exist_ok=True)
    save_npy(path, vectors)


def _print_docs(rows: list[dict[str, Any]], title: str) -> None:
    console.print(f"{title}", highlight=False)
    table = Table()
    table.add_column("#", justify="right")
    table.add_column("tag")
    table.add_column("cosine", justify="right")
    table.add_column("text", overflow="fold")
    for rank, row in enumerate(rows, start=1):
        table.add_row(str(rank), row["tag"], f"{row['score']:.4f}", row["text"][:100])
    console.print(table)
