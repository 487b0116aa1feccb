"""Long-text windows computed by hand: split, pool each window, token-weighted mean, compared with encode()."""

from __future__ import annotations

import numpy as np
import torch

from embedlab import load


def test_windows_by_hand_match_encode(minilm) -> None:
    tokenizer = minilm.tokenizer
    vocabulary = [t for t in tokenizer.get_vocab() if t.isalpha() and t.islower() and len(t) > 3]
    words = sorted(vocabulary)[:700:2]  # several hundred distinct whole-word tokens
    text = " ".join(words)
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert len(ids) == len(set(ids)) > 300

    room = minilm.max_tokens - 2  # [CLS] ... [SEP]
    overlap = minilm.overlap
    assert overlap == min(32, room // 4) == 32
    starts = list(range(0, len(ids) - overlap, room - overlap))
    windows = [ids[s : s + room] for s in starts]
    assert windows[-1][-1] == ids[-1] and len(windows) >= 2  # the last window ends at the last token
    assert all(len(w) == room for w in windows[:-1])

    pieces = [[tokenizer.cls_token_id, *w, tokenizer.sep_token_id] for w in windows]
    pooled = []
    with torch.inference_mode():
        for piece in pieces:
            out = minilm.model(
                input_ids=torch.tensor([piece]), attention_mask=torch.ones(1, len(piece), dtype=torch.long)
            )
            pooled.append(out.last_hidden_state[0].mean(dim=0).numpy())
    weights = np.array([len(p) for p in pieces], dtype=np.float64)
    expected = (np.array(pooled) * weights[:, None]).sum(axis=0) / weights.sum()

    got = minilm.encode([text], normalize=False)[0]
    np.testing.assert_allclose(got, expected, atol=2e-5)
    assert minilm.last_stats == {"items": 1, "long_texts": 1, "windowed": 1, "truncated": 0}

    cut = load("minilm", long_text="truncate").encode([text], normalize=False)[0]
    np.testing.assert_allclose(cut, pooled[0], atol=2e-5)  # truncate keeps exactly the first window
