"""Training corpora streamed from disk: a text file (one sentence or document per line), a column of a
CSV/TSV/JSONL/Parquet file, or a folder of .txt files. Each pass re-reads the files, so a corpus of any
size trains without being loaded whole (gensim makes one pass for the vocabulary and one per epoch).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from embedlab.encoders.static import tokenize
from embedlab.errors import EmbedlabError
from embedlab.io.records import FORMATS, decoded_lines, read_records

MAX_WORDS = 10_000  # gensim's cython routines ignore words past this in one sentence, so longer lines are split


@dataclass(frozen=True)
class Document:
    """One line of the corpus as lowercase word tokens, with a tag (for doc2vec) and its raw text."""

    tag: str
    words: list[str]
    text: str


def file_kind(path: Path) -> str:
    """text, csv, tsv, jsonl or parquet by extension; any other extension (.cor, .tok ...) is plain text."""
    return FORMATS.get(path.suffix.lower(), "text")


class Corpus:
    """A restartable stream of tokenised lines; iterate it as many times as needed."""

    def __init__(self, path: str | Path, text_column: str | None = None, lowercase: bool = True) -> None:
        self.path = Path(path).expanduser()
        self.text_column = text_column
        self.lowercase = lowercase
        if self.path.is_dir():
            if text_column:
                raise EmbedlabError("a folder of .txt files has no columns.", "drop text_column.", param="text_column")
            self.files = sorted(p for p in self.path.rglob("*.txt") if p.is_file())
            if not self.files:
                raise EmbedlabError(f"the folder {self.path} holds no .txt files.", "point at a folder of .txt files.")
        elif self.path.is_file():
            if text_column and file_kind(self.path) == "text":
                raise EmbedlabError(
                    "a plain text file has no columns.", "drop text_column, or use CSV/JSONL.", param="text_column"
                )
            self.files = [self.path]
        else:
            raise EmbedlabError(f"corpus {self.path} does not exist.", "pass a text, CSV, JSONL or Parquet file.")

    @property
    def description(self) -> str:
        kind = "folder of .txt files" if self.path.is_dir() else file_kind(self.path)
        column = f", column {self.text_column!r}" if self.text_column else ""
        return f"{self.path} ({kind}{column})"

    def documents(self) -> Iterator[Document]:
        """Every non-empty line as a Document; tags are record ids, `FILE:LINE` in folders, or line numbers."""
        for path in self.files:
            prefix = f"{path.relative_to(self.path)}:" if self.path.is_dir() else ""
            if file_kind(path) == "text":
                rows: Iterator[tuple[str | None, int, str | None]] = (
                    (None, number, text) for number, text in decoded_lines(path)
                )
            else:
                rows = ((r.id, r.line, r.text) for r in read_records(path, self.text_column))
            for record_id, line, text in rows:
                if text is None:
                    continue
                words = tokenize(str(text), self.lowercase)
                if words:
                    yield Document(record_id or f"{prefix}{line}", words, str(text))

    def __iter__(self) -> Iterator[list[str]]:
        for document in self.documents():
            for start in range(0, len(document.words), MAX_WORDS):
                yield document.words[start : start + MAX_WORDS]

    def tagged(self) -> TaggedCorpus:
        """The same stream as gensim TaggedDocuments, for doc2vec."""
        return TaggedCorpus(self)


class TaggedCorpus:
    """Restartable stream of gensim TaggedDocument(words, [tag])."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus

    def __iter__(self) -> Iterator[object]:
        from gensim.models.doc2vec import TaggedDocument

        for document in self.corpus.documents():
            for start in range(0, len(document.words), MAX_WORDS):
                yield TaggedDocument(document.words[start : start + MAX_WORDS], [document.tag])
