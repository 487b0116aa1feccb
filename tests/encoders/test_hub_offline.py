"""A hub id while the hub is unreachable is looked up in the local cache only: a clear error, no retries."""

from __future__ import annotations

import pytest

from embedlab.encoders import pretrained
from embedlab.errors import ModelUnavailableError


def test_unreachable_hub_fails_with_a_clear_error(monkeypatch):
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(pretrained, "hub_reachable", lambda timeout=3.0: False)
    seen = []

    def load():
        seen.append(constants.HF_HUB_OFFLINE)  # the load runs in huggingface_hub's offline mode
        raise OSError("We couldn't connect to 'https://huggingface.co' and couldn't find them in the cached files.")

    with pytest.raises(
        ModelUnavailableError, match="the hub is not reachable, and the model is not in the local cache"
    ):
        pretrained.load_parts("a transformer model", "nobody/no-model", None, "files", "hint", load)
    assert seen == [True]


def test_invalid_safetensors_is_a_clear_error(tmp_path):
    from safetensors import SafetensorError

    from embedlab.errors import EmbedlabError

    def load():
        raise SafetensorError("Error while deserializing header: HeaderTooLarge")

    with pytest.raises(EmbedlabError, match="could not load a transformer model from .*HeaderTooLarge"):
        pretrained.load_parts("a transformer model", tmp_path, tmp_path, "files", "hint", load)
