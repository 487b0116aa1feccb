"""Evaluate embeddings on real public benchmarks, offline, and compare models side by side.

>>> from embedlab.evaluate import evaluate
>>> report = evaluate("docsim", ["tfidf", "minilm"])
>>> report.best()  # {('docsim', 'Lee 50 documents', 'pearson'): ['minilm'], ...}

Tasks (one module each): wordsim, analogy (word models: wordllama, vectors:PATH, anything exposing
gensim KeyedVectors), docsim, sts, retrieval, classify (every text encoder). Text embeddings are cached
per (recipe, texts) under $EMBEDLAB_CACHE/evaluate (else $XDG_CACHE_HOME/embedlab/evaluate, else ~/.cache/embedlab/evaluate).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from embedlab._version import __version__
from embedlab.encoders import Encoder, load
from embedlab.errors import EmbedlabError, close_matches
from embedlab.evaluate import analogy, classify, docsim, retrieval, sts, wordsim
from embedlab.evaluate.core import TEXT, WORD, CachedEncoder, DatasetInfo, Result, Task, cache_folder
from embedlab.evaluate.wordspace import WordSpace, word_space

TASKS: dict[str, Task] = {m.TASK.name: m.TASK for m in (wordsim, analogy, docsim, sts, retrieval, classify)}
ALL = "all"
POSITIVE = {"restrict_vocab": 1, "k": 1, "folds": 2}


@dataclass
class Report:
    """Results of one or more tasks for one or more models, with what was skipped and why."""

    results: list[Result]
    skipped: list[dict[str, str]] = field(default_factory=list)
    model_order: list[str] = field(default_factory=list)
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def columns(self) -> list[tuple[str, str, str]]:
        """(task, dataset, metric) in first-seen order."""
        seen: dict[tuple[str, str, str], None] = {}
        for result in self.results:
            for metric in result.metrics:
                seen[(result.task, result.dataset.name, metric)] = None
        return list(seen)

    def value(self, model: str, column: tuple[str, str, str]) -> float | None:
        task, dataset, metric = column
        for result in self.results:
            if result.model == model and result.task == task and result.dataset.name == dataset:
                return result.metrics.get(metric)
        return None

    def models(self, task: str | None = None) -> list[str]:
        """Models with results (for `task`), in the order they were given."""
        present = {r.model for r in self.results if task is None or r.task == task}
        return [m for m in dict.fromkeys([*self.model_order, *(r.model for r in self.results)]) if m in present]

    def best(self) -> dict[tuple[str, str, str], list[str]]:
        """The best models per column (higher is better for every metric); all of them when tied."""
        winners = {}
        for column in self.columns():
            scored = {m: v for m in self.models(column[0]) if (v := self.value(m, column)) is not None}
            if scored:
                top = max(scored.values())
                winners[column] = [m for m, v in scored.items() if v == top]
        return winners

    def as_dict(self) -> dict[str, Any]:
        return {
            "embedlab_version": __version__,
            "created": self.created,
            "results": [r.as_dict() for r in self.results],
            "best": [{"task": t, "dataset": d, "metric": m, "models": w} for (t, d, m), w in self.best().items()],
            "skipped": self.skipped,
        }


def task_names() -> list[str]:
    return list(TASKS)


def get_task(name: str) -> Task:
    if name in TASKS:
        return TASKS[name]
    close = close_matches(name, [*TASKS, ALL])
    raise EmbedlabError(
        f"unknown task {name!r}." + (f" Did you mean: {', '.join(close)}?" if close else ""),
        f"tasks: {', '.join(TASKS)} (or {ALL}).",
    )


def fitting_tasks(encoder: Encoder) -> list[str]:
    """The tasks a model can do: word tasks need a word vocabulary, text tasks a text encoder."""
    has_words = word_space(encoder) is not None
    return [
        name
        for name, task in TASKS.items()
        if (task.kind == WORD and has_words) or (task.kind == TEXT and encoder.modality == "text")
    ]


def _split_options(function: Any, options: dict[str, Any]) -> dict[str, Any]:
    accepted = inspect.signature(function).parameters
    return {k: v for k, v in options.items() if k in accepted}


def check_options(task: str, names: list[str], options: dict[str, Any]) -> None:
    """Refuse options the task does not take and counts out of range, before any work."""
    known = {o for n in names for o in TASKS[n].options}
    unknown = sorted(set(options) - known)
    if unknown:
        raise EmbedlabError(
            f"task {task!r} takes no option {', '.join(unknown)}.",
            f"its options: {', '.join(sorted(known)) or 'none'}.",
        )
    for name, least in POSITIVE.items():
        value = options.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < least):
            raise EmbedlabError(
                f"{name} must be a whole number >= {least}, got {value!r}.", f"pass e.g. {name}=10.", param=name
            )


def _load_models(models: Sequence[str | Encoder]) -> list[tuple[str, Encoder]]:
    if not models:
        raise EmbedlabError("no model given.", "pass one or more models with models=.", param="models")
    loaded = []
    for model in models:
        encoder = model if isinstance(model, Encoder) else load(model)
        loaded.append((model if isinstance(model, str) else encoder.name, encoder))
    return loaded


def evaluate(task: str, models: Sequence[str | Encoder], data: str | Path | None = None, **options: Any) -> Report:
    """Run `task` (or 'all' bundled tasks that fit) for each model; one Report to compare them.

    Options: restrict_vocab (wordsim, analogy), k and split (retrieval), folds, seed, text_column and
    label_column (classify).
    """
    names = list(TASKS) if task == ALL else [get_task(task).name]
    if task == ALL and data is not None:
        raise EmbedlabError(
            "data= goes with one task, not 'all'.", "run the task that reads your file by name.", param="data"
        )
    check_options(task, names, options)
    path = None if data is None else Path(data).expanduser()
    datasets = {  # read and checked before any model loads; sts has no bundled data, so 'all' skips it
        name: TASKS[name].load(path, **_split_options(TASKS[name].load, options))
        for name in names
        if not (task == ALL and name == "sts")
    }
    loaded = _load_models(models)
    if task != ALL:
        for model, encoder in loaded:
            fits = fitting_tasks(encoder)
            if task not in fits:
                need = "a word model with a vocabulary" if TASKS[task].kind == WORD else "a text encoder"
                raise EmbedlabError(
                    f"model {model!r} cannot do {task}: it needs {need}.",
                    f"tasks that fit {model}: {', '.join(fits) or 'none'}; word models are wordllama, vectors:PATH, "
                    "word2vec:DIR and fasttext:DIR.",
                )
    report = Report([], model_order=[model for model, _ in loaded])
    for name in names:
        for model, encoder in loaded:
            if name not in datasets:
                report.skipped.append(
                    {"task": name, "model": model, "reason": "needs a data file (no bundled data set)"}
                )
            elif name not in fitting_tasks(encoder):
                report.skipped.append({"task": name, "model": model, "reason": "task does not fit this model"})
            else:
                score = TASKS[name].score
                report.results.extend(score(encoder, model, datasets[name], **_split_options(score, options)))
    return report


__all__ = [
    "ALL",
    "TASKS",
    "CachedEncoder",
    "DatasetInfo",
    "Report",
    "Result",
    "Task",
    "WordSpace",
    "cache_folder",
    "evaluate",
    "fitting_tasks",
    "get_task",
    "task_names",
    "word_space",
]
