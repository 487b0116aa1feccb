"""TensorBoard Embedding Projector export."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab import EmbedlabError
from embedlab.maps import export_projector, make_map, open_source


def test_projector_files(tmp_path, lee_vectors):
    files = export_projector(
        tmp_path / "proj", lee_vectors[:4], {"id": ["a", "b", "c", "d"], "text": ["one\ttab", "two\nlines", None, "4"]}
    )
    assert [f.name for f in files] == ["vectors.tsv", "metadata.tsv", "projector_config.pbtxt"]
    rows = (tmp_path / "proj" / "vectors.tsv").read_text().splitlines()
    assert len(rows) == 4 and len(rows[0].split("\t")) == 384
    np.testing.assert_allclose(np.array([r.split("\t") for r in rows], dtype=np.float32), lee_vectors[:4], atol=1e-5)
    assert (tmp_path / "proj" / "metadata.tsv").read_text().splitlines() == [
        "id\ttext", "a\tone tab", "b\ttwo lines", "c\t", "d\t4"
    ]  # fmt: skip
    config = (tmp_path / "proj" / "projector_config.pbtxt").read_text()
    assert 'tensor_path: "vectors.tsv"' in config and 'metadata_path: "metadata.tsv"' in config


def test_single_column_metadata_has_no_header(tmp_path, lee_vectors):
    export_projector(tmp_path / "p", lee_vectors[:2], {"id": ["a", "b"]})
    assert (tmp_path / "p" / "metadata.tsv").read_text() == "a\nb\n"


def test_make_map_exports_collection_with_clusters(lee_store, out):
    summary = make_map(open_source("lee", lee_store), None, projector=out / "proj")
    header = (out / "proj" / "metadata.tsv").read_text(encoding="utf-8").splitlines()[0].split("\t")
    assert header[:3] == ["id", "text", "cluster"] and "topic" in header
    assert len(summary.projector) == 3 and summary.output is None


def test_missing_parent_folder(tmp_path, lee_vectors):
    with pytest.raises(EmbedlabError, match="does not exist"):
        export_projector(tmp_path / "no" / "proj", lee_vectors[:2], {"id": ["a", "b"]})
    assert not (tmp_path / "no").exists()
