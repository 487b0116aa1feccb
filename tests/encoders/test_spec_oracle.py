"""The registry of model kinds (embedlab.encoders.spec): kinds added with `register` / `register_prefix` load by
name, list with their options, and a fitted model saved to a folder loads back with the same vectors (TF-IDF on
Lee corpus sentences, against scikit-learn's TfidfVectorizer)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from embedlab.encoders import spec as specs
from embedlab.encoders.spec import REGISTRY, ModelInfo, ModelKind, ModelSpec, get_kind, register, register_prefix
from embedlab.errors import NotFoundError


@pytest.fixture
def clean_registry():
    kinds, aliases = dict(REGISTRY), dict(specs.ALIASES)
    yield
    REGISTRY.clear()
    REGISTRY.update(kinds)
    specs.ALIASES.clear()
    specs.ALIASES.update(aliases)


def test_get_kind_by_name_and_alias():
    assert get_kind("minilm") is REGISTRY["minilm"]
    assert get_kind("all-MiniLM-L6-v2") is REGISTRY["minilm"]
    assert get_kind("wordllama-256") is REGISTRY["wordllama"]
    with pytest.raises(NotFoundError, match="no model kind 'nope' is registered") as error:
        get_kind("nope")
    assert error.value.hint == "see embedlab.list_models()."


def test_a_prefix_kind_loads_paths_through_its_factory(clean_registry, wordllama):
    made = []

    def factory(path, **options):
        made.append((path, options))
        return wordllama

    kind = register_prefix("mine", factory, "my models")
    assert kind is REGISTRY["mine"]
    assert (kind.name, kind.summary, kind.prefix, kind.named, kind.listed_as) == (
        "mine", "my models", True, False, "mine:PATH",
    )  # fmt: skip
    assert kind.factory is factory and kind.target == "" and kind.options == ()
    assert specs.load("mine:some/where", dim=3) is wordllama
    assert made == [("some/where", {"dim": 3})]
    assert register_prefix("plain", factory).summary == "plain:PATH models"
    rows = {row.name: row for row in specs.list_models()}
    assert rows["mine:PATH"].description == "my models" and rows["mine:PATH"].options == ()
    assert (rows["mine:PATH"].modality, rows["mine:PATH"].dim, rows["mine:PATH"].offline) == (
        "text",
        "from model",
        True,
    )
    assert rows["clip:DIR"].modality == "text+image" and rows["image:DIR"].modality == "image"


def test_a_kind_whose_dependency_is_missing_is_listed_without_options(clean_registry):
    register(ModelKind("oracle-missing", "embedlab_no_such_module:Encoder", "needs a package that is not installed"))
    row = next(r for r in specs.list_models() if r.name == "oracle-missing")
    assert row.options == () and row.as_dict()["options"] == []


def test_register_adds_the_aliases(clean_registry):
    kind = register(
        ModelKind("oracle-kind", "embedlab.encoders.wordllama:WordLlamaEncoder", "s", aliases=("ok1", "ok2"))
    )
    assert get_kind("ok1") is kind is get_kind("ok2") is REGISTRY["oracle-kind"]
    assert ModelSpec("ok2").kind == "oracle-kind"


def test_model_info_as_dict():
    info = ModelInfo("m", 384, "text", True, "a model", ("pooling", "device"))
    assert info.as_dict() == {
        "name": "m",
        "dim": 384,
        "modality": "text",
        "offline": True,
        "description": "a model",
        "options": ["pooling", "device"],
    }
    row = next(r for r in specs.list_models() if r.name == "minilm")
    assert row.as_dict()["options"] == list(REGISTRY["minilm"].options) and row.as_dict()["dim"] == 384


def test_a_fitted_tfidf_saved_to_a_folder_loads_back_through_its_spec(tmp_path, lee_records):
    texts = [r.text for r in lee_records[:30]]
    tfidf = specs.load("tfidf").fit(texts)
    tfidf.save(tmp_path / "state")
    again = ModelSpec("tfidf").load(state=tmp_path / "state")
    assert again.fitted and again is not tfidf
    expected = normalize(TfidfVectorizer().fit(texts).transform(texts[:5]).toarray())
    np.testing.assert_allclose(again.encode(texts[:5]), expected, atol=1e-6)
    assert ModelSpec("tfidf").load().fitted is False  # without a state: a new, unfitted encoder


def test_folder_kinds_come_from_a_valid_manifest_only(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    assert specs._folder_kind(folder) == "folder"
    manifest = folder / specs.WORD_MANIFEST
    manifest.write_text(json.dumps({"kind": "word2vec", "note": "é"}), encoding="utf-8")
    assert specs._folder_kind(folder) == "word2vec"
    manifest.write_text(json.dumps({"kind": "nonexistent"}), encoding="utf-8")
    assert specs._folder_kind(folder) == "folder"
    manifest.write_text("{damaged", encoding="utf-8")
    assert specs._folder_kind(folder) == "folder"
    manifest.write_text("[1, 2]", encoding="utf-8")  # JSON, but not an object
    assert specs._folder_kind(folder) == "folder"


def test_the_signature_check_names_options_that_are_not_parameters(clean_registry):
    specs._signature_check()  # every built-in kind passes
    register(ModelKind("oracle-bad", "embedlab.encoders.wordllama:WordLlamaEncoder", "s", extra_options=("speed",)))
    with pytest.raises(AssertionError) as error:
        specs._signature_check()
    assert str(error.value) == (
        "oracle-bad: options ['speed'] are not parameters of embedlab.encoders.wordllama:WordLlamaEncoder"
    )


class Made:
    """Records how a kind builds it: the positional path and the keyword options."""

    config_keys = ("a", "b")

    def __init__(self, *args, **kwargs) -> None:
        self.args, self.kwargs = args, kwargs

    @classmethod
    def load(cls, folder):
        made = cls()
        made.loaded = folder
        return made


TARGET = f"{__name__}:Made"


def test_build_passes_the_path_the_fixed_options_and_the_users(clean_registry):
    register(ModelKind("o-named", TARGET, "s", fixed={"name": "x"}, path_argument=lambda p: f"resolved:{p}"))
    made = ModelSpec("o-named", {"a": 1}).load()
    assert (made.args, made.kwargs) == (("resolved:None",), {"name": "x", "a": 1})
    register(ModelKind("o-pre", TARGET, "s", prefix=True, named=False, listed_as="o-pre:PATH", fixed={"k": 2}))
    made = specs.load("o-pre:some/where", b=5)
    assert (made.args, made.kwargs) == (("some/where",), {"k": 2, "b": 5})
    register(ModelKind("o-plain", TARGET, "s", fixed={"k": 3}))
    made = specs.load("o-plain", a=0)
    assert (made.args, made.kwargs) == ((), {"k": 3, "a": 0})


def test_unknown_options_are_named_with_what_the_kind_takes(clean_registry):
    register(ModelKind("o-pre", TARGET, "s", prefix=True, named=False, listed_as="o-pre:PATH"))
    with pytest.raises(specs.EmbedlabError) as error:
        specs.load("o-pre:p", zeta=1, alpha=2)
    assert str(error.value).splitlines()[0] == "model 'o-pre:PATH' does not take these options: alpha, zeta."
    assert error.value.hint == "it takes: a, b." and error.value.param == "alpha"
    register(ModelKind("o-none", f"{__name__}:NoOptions", "s"))
    with pytest.raises(specs.EmbedlabError) as error:
        specs.load("o-none", x=1)
    assert str(error.value).startswith("model 'o-none' does not take these options: x.")
    assert error.value.hint == "it takes: none."


class NoOptions(Made):
    config_keys = ()


def test_a_fitted_kind_loads_from_its_state_folder(clean_registry):
    register(ModelKind("o-fit", TARGET, "s", requires_fit=True))
    made = ModelSpec("o-fit").load(state="some/dir")
    assert made.loaded == specs.Path("some/dir") and isinstance(made.loaded, specs.Path)
    assert ModelSpec("o-fit").load().args == ()  # no state: built as usual


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        ("  wordllama ", ("wordllama", "wordllama", None)),
        ("vectors:glove.txt", ("vectors:glove.txt", "vectors", "glove.txt")),
        ("vectors:runs:2024/glove.txt", ("vectors:runs:2024/glove.txt", "vectors", "runs:2024/glove.txt")),
        ("org/model", ("org/model", "hub", "org/model")),
        ("all-MiniLM-L6-v2", ("all-MiniLM-L6-v2", "minilm", None)),
    ],
)
def test_a_spec_keeps_the_parsed_name_kind_and_path(name, parsed):
    spec = ModelSpec(name)
    assert (spec.name, spec.kind, spec.path) == parsed


@pytest.mark.parametrize("empty", ["", "   "])
def test_an_empty_model_name_says_how_to_list_the_models(empty):
    with pytest.raises(specs.EmbedlabError) as error:
        specs.parse(empty)
    assert str(error.value).splitlines()[0] == "the model name is empty."
    assert error.value.hint == "list the models with embedlab.list_models() (`embedlab models`)."


def test_parse_by_hand(clean_registry, tmp_path):
    assert specs.parse("vectors:glove.txt", dim=3).options == {"dim": 3}
    folder = tmp_path / "mini"
    folder.mkdir()
    spec = specs.parse(str(folder), pooling="cls")
    assert (spec.name, spec.kind, spec.path, spec.options) == (str(folder), "folder", str(folder), {"pooling": "cls"})
    for empty in ("vectors:", "vectors"):
        with pytest.raises(specs.EmbedlabError) as error:
            specs.parse(empty)
        assert str(error.value).splitlines()[0] == f"{empty!r} names no path."
        assert error.value.hint == "write it as vectors:PATH."
    with pytest.raises(NotFoundError, match="unknown model 'nope:x'"):
        specs.parse("nope:x")  # a colon after a name that is no registered prefix
    register_prefix("z", lambda path, **options: path)
    register_prefix("zz", lambda path, **options: path)
    assert specs.parse("zz:dir").kind == "zz"
    with pytest.raises(NotFoundError):
        specs.parse("z:dir")  # one letter before a colon is a drive (C:), never a prefix
    with pytest.raises(NotFoundError) as error:
        specs.parse("~/no-such-model-folder-xyz")
    assert str(error.value).splitlines()[0].endswith("is not a model folder (it does not exist).")
    assert error.value.hint == (
        "check the path; a local transformer model is a folder, a word-vectors file is vectors:PATH."
    )


def test_load_of_a_spec_merges_its_options_with_the_callers(clean_registry):
    register(ModelKind("o-merge", TARGET, "s"))
    made = specs.load(ModelSpec("o-merge", {"a": 1}), b=2)
    assert (made.args, made.kwargs) == ((), {"a": 1, "b": 2})
    made = specs.load(ModelSpec("o-merge", {"a": 1, "b": 2}), a=3)
    assert made.kwargs == {"a": 3, "b": 2}  # the caller's option wins over the spec's
    assert specs.load(ModelSpec("o-merge")).kwargs == {}


def test_a_state_folder_is_only_for_kinds_that_are_fitted(clean_registry):
    register(ModelKind("o-unfitted", TARGET, "s"))
    made = ModelSpec("o-unfitted", {"a": 1}).load(state="some/dir")
    assert (made.args, made.kwargs) == ((), {"a": 1}) and not hasattr(made, "loaded")


def test_unknown_names_suggest_registered_names_aliases_and_prefixes_only():
    with pytest.raises(NotFoundError) as error:
        specs.parse("wordllama-265")
    assert str(error.value).splitlines()[0] == "unknown model 'wordllama-265'. Did you mean: wordllama-256, wordllama?"
    assert error.value.hint == (
        "run `embedlab models` (or embedlab.list_models()) to list the models; local folders and hub ids "
        "(org/name) work too."
    )
    with pytest.raises(NotFoundError) as error:
        specs.parse("vectorz:glove.txt")
    assert str(error.value).splitlines()[0] == "unknown model 'vectorz:glove.txt'. Did you mean: vectors:?"
    for kind_name in ("folderr", "hubb"):  # kinds without a name of their own are never suggested
        with pytest.raises(NotFoundError) as error:
            specs.parse(kind_name)
        assert str(error.value).splitlines()[0] == f"unknown model {kind_name!r}."


@pytest.mark.parametrize("name", ["org/team/model", "org/my model", "org"])
def test_only_one_slash_without_spaces_is_a_hub_id(name):
    with pytest.raises(NotFoundError, match="unknown model"):
        specs.parse(name)


def test_a_relative_file_and_a_home_folder_are_found_where_they_are(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "glove.txt").write_text("king 0.1 0.2\n", encoding="utf-8")
    spec = specs.parse("glove.txt", dim=2)
    assert (spec.name, spec.kind, spec.path, spec.options) == ("glove.txt", "file", "glove.txt", {"dim": 2})
    home = tmp_path / "home"
    (home / "models" / "mini").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    spec = specs.parse("~/models/mini")
    assert (spec.kind, spec.path) == ("folder", str(home / "models" / "mini"))
    (tmp_path / "vectors").mkdir()  # a folder named like a prefix kind is that folder
    assert (specs.parse("vectors").kind, specs.parse("vectors").path) == ("folder", "vectors")


def test_specs_that_name_no_loadable_kind_say_why():
    with pytest.raises(specs.EmbedlabError) as error:
        ModelSpec("glove.txt", kind="file", path="glove.txt").load()
    assert str(error.value).splitlines()[0] == "glove.txt is not a model folder."
    assert error.value.hint == "a local transformer model is a folder; for a word-vectors file write vectors:PATH."
    assert not isinstance(error.value, NotFoundError)
    gone = ModelSpec("old", kind="removed-kind")
    with pytest.raises(NotFoundError) as error:
        gone.load()
    assert str(error.value).splitlines()[0] == "old names no model that can be loaded (removed-kind)."
    assert error.value.hint == "save it first."
    assert (gone.requires_fit, gone.word_vectors) == (False, False)
    assert ModelSpec("tfidf").requires_fit and not ModelSpec("wordllama").requires_fit
    assert ModelSpec("glove.txt", kind="file").word_vectors


def test_a_spec_as_a_dict_and_as_text():
    spec = ModelSpec(" vectors:glove.txt ", {"weighting": "sif"})
    assert spec.to_dict() == {"name": "vectors:glove.txt", "options": {"weighting": "sif"}}
    assert str(spec) == "vectors:glove.txt"
    assert ModelSpec.from_dict({"name": "wordllama", "options": None}) == ModelSpec("wordllama", {})
    assert ModelSpec.from_dict({"name": "wordllama"}).options == {}
    again = ModelSpec.from_dict(spec.to_dict())
    assert (again, again.kind, again.path) == (spec, "vectors", "glove.txt")
    spec.to_dict()["options"]["weighting"] = "mean"
    assert spec.options == {"weighting": "sif"}  # the dict is a copy


def test_a_kinds_options_list_each_name_once_in_order(clean_registry):
    kind = register(ModelKind("o-dup", TARGET, "s", extra_options=("b", "device")))
    assert kind.options == ("a", "b", "device")


def test_a_trained_folder_is_recognised_here_and_under_an_ascii_locale(tmp_path):
    """A manifest is UTF-8 whatever the locale: under LANG=C (cron, bare containers) a trained folder whose
    manifest holds a non-ASCII character is still word2vec, not a BERT folder, as it is in this process. (mutmut
    gives a mutant only the tests that call the mutated function in the test process: hence the call here too.)"""
    folder = tmp_path / "lee-w2v"
    folder.mkdir()
    (folder / specs.WORD_MANIFEST).write_text(json.dumps({"kind": "word2vec", "corpus": "café"}, ensure_ascii=False),
                                              encoding="utf-8")  # fmt: skip
    assert specs.parse(str(folder)).kind == "word2vec"
    env = dict(os.environ, LC_ALL="C", LANG="C", PYTHONCOERCECLOCALE="0", PYTHONUTF8="0")
    code = "import locale, sys; from embedlab.encoders.spec import parse; "
    code += "print(locale.getpreferredencoding(False), parse(sys.argv[1]).kind)"
    out = subprocess.run([sys.executable, "-c", code, str(folder)], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["ANSI_X3.4-1968", "word2vec"]


@pytest.mark.parametrize(
    ("name", "kind", "path"),
    [("wordllama", "wordllama", None), ("vectors:v.txt", "vectors", "v.txt"), ("org/model", "hub", "org/model")],
)
def test_every_form_keeps_the_options_it_was_given(name, kind, path):
    spec = specs.parse(name, pooling="cls", device="cpu")
    assert (spec.name, spec.kind, spec.path, spec.options) == (name, kind, path, {"pooling": "cls", "device": "cpu"})


def test_a_path_argument_receives_the_path_of_the_name(clean_registry):
    register(
        ModelKind("o-arg", TARGET, "s", prefix=True, named=False, listed_as="o-arg:DIR", path_argument=lambda p: [p])
    )
    made = specs.load("o-arg:models/mine", a=1)
    assert (made.args, made.kwargs) == ((["models/mine"],), {"a": 1})


def test_load_without_a_name_is_minilm(clean_registry):
    register(ModelKind("minilm", TARGET, "a stand-in for the bundled minilm (no model load)"))
    made = specs.load(a="cls")
    assert isinstance(made, Made) and (made.args, made.kwargs) == ((), {"a": "cls"})
