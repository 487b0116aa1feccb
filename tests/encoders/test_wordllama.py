from __future__ import annotations

import numpy as np

from embedlab.encoders.wordllama import wordllama_cache_dir


def test_loads_offline_with_the_packaged_tokenizer(wordllama):
    assert (wordllama_cache_dir() / "tokenizers" / "l2_supercat_tokenizer_config.json").is_file()
    assert wordllama.dim == 256 and wordllama.recipe["encoder"] == "wordllama"


def test_related_texts_are_closer(wordllama):
    v = wordllama.encode(["the king and the queen", "a royal palace", "carrot soup recipe"])
    assert v[0] @ v[1] > v[0] @ v[2]
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)


def test_empty_text_gives_zero_vector(wordllama):
    v = wordllama.encode(["", "hello"])
    assert not v[0].any() and wordllama.last_stats["empty_texts"] == 1


def test_import_leaves_logging_alone():
    import logging
    import subprocess
    import sys

    code = (
        "import logging; from embedlab.encoders.wordllama import WordLlamaEncoder; WordLlamaEncoder(); "
        "print(len(logging.getLogger().handlers), logging.getLogger().level)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0", str(logging.WARNING)]
