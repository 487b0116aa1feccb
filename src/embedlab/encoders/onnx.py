"""The forward pass of a transformer encoder run by ONNX Runtime (fp32, or dynamic int8 quantization).

Only the forward pass moves: tokenization, long-text windows, pooling and normalisation stay in
`TransformerEncoder`, so every backend reads texts the same way. The model is exported once with
`torch.onnx.export` and kept in the user cache folder (`$EMBEDLAB_CACHE`, else `$XDG_CACHE_HOME/embedlab`,
else `~/.cache/embedlab`) under `onnx/<weights sha256>/`; `onnx-int8` is ONNX Runtime's own dynamic
quantization (`quantize_dynamic`, int8 weights, activations quantized per batch) of that export. Both files
are written atomically, so a crash or a second process never leaves a half-written model behind; a damaged
file in the cache is exported again.

Threads: ONNX Runtime uses one intra-op thread per CPU core this process may run on (`os.sched_getaffinity`,
2 on the development machine) and runs operators one after another (inter-op 1), as torch does by default.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import EmbedlabError, ModelUnavailableError
from embedlab.io.files import atomic_write

BACKENDS = ("torch", "onnx", "onnx-int8")
OPSET = 17
QUANTIZED = "model-int8-v2.onnx"  # the name changes whenever the quantization settings do
log = logging.getLogger(__name__)


def cache_root() -> Path:
    """embedlab's user cache folder: $EMBEDLAB_CACHE, else $XDG_CACHE_HOME/embedlab, else ~/.cache/embedlab."""
    if os.environ.get("EMBEDLAB_CACHE"):
        return Path(os.environ["EMBEDLAB_CACHE"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "embedlab"
    return Path.home() / ".cache" / "embedlab"


def cpu_threads() -> int:
    """The CPU cores this process may use (its affinity mask, which containers and taskset narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise EmbedlabError(
            f"backend {backend!r} is not one of embedlab's backends.",
            f"pass backend= one of {', '.join(BACKENDS)}.",
            param="backend",
        )
    return backend


def import_onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:  # pragma: no cover - a dependency of embedlab
        raise ModelUnavailableError(
            "the onnx backends need onnxruntime, which is not installed.", "pip install onnxruntime onnx"
        ) from exc
    onnxruntime.set_default_logger_severity(3)  # errors only: no warnings about unused initializers
    return onnxruntime


class _LastHiddenState:
    """The model as a module with plain positional inputs and one output, the shape torch.onnx wants."""

    def __new__(cls, model: Any) -> Any:
        import torch

        class Wrapped(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, input_ids: Any, attention_mask: Any) -> Any:
                return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

        return Wrapped()


def export(load_model: Callable[[], Any], target: Path) -> None:
    """Export a fresh copy of the model (from `load_model()`, eager attention) to `target`, atomically.

    A fresh copy because tracing may leave state behind on the module it traces, and eager attention because
    the traced graph must keep the attention mask (sdpa's fast path drops it when a sample needs no padding).
    The sample batch has padding for the same reason.
    """
    import torch

    model = load_model().eval()
    sample = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]])
    target.parent.mkdir(parents=True, exist_ok=True)
    axes = {0: "batch", 1: "tokens"}
    with atomic_write(target) as temp, torch.inference_mode(False), torch.no_grad():
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about Python booleans in transformers' masking code
            torch.onnx.export(
                _LastHiddenState(model),
                (sample, (sample != 0).long()),
                str(temp),
                input_names=["input_ids", "attention_mask"],
                output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
                opset_version=OPSET,
                dynamo=False,
            )


def quantize(source: Path, target: Path) -> None:
    """ONNX Runtime's dynamic int8 quantization of `source`, atomically.

    Settings, measured on 300 Lee sentences against torch fp32 (minimum / mean cosine): the defaults (per-tensor
    weights, every MatMul and Gather) gave 0.87 on some texts; per-channel int8 weights on the MatMuls 0.984 /
    0.993; also keeping the feed-forward output projections (`.../output/dense`, whose input is the GELU's
    long-tailed activations, quantized per batch to uint8) in fp32 gives 0.992 / 0.996 and is what we use.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source)).graph
    keep = [
        n.name for n in graph.node if n.op_type == "MatMul" and "/output/dense/" in n.name and "attention" not in n.name
    ]
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_dynamic warns on the root logger about optional pre-processing
    with atomic_write(target) as temp:
        quantize_dynamic(
            str(source),
            str(temp),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=keep,
        )
    root.setLevel(level)


class OnnxForward:
    """`forward(input_ids, attention_mask)` -> last hidden state (numpy float32), run by ONNX Runtime on CPU."""

    def __init__(self, key: str, load_model: Callable[[], Any], int8: bool = False, threads: int | None = None) -> None:
        self.ort = import_onnxruntime()
        safe_key = key.replace(":", "-").replace("/", "_")
        self.folder = cache_root() / "onnx" / safe_key
        self.fp32_path = self.folder / "model.onnx"
        self.path = self.folder / QUANTIZED if int8 else self.fp32_path
        self.threads = threads or cpu_threads()
        self.load_model = load_model
        self.int8 = int8
        try:
            self.session = self._session()
        except Exception as exc:  # a damaged cache file (truncated, half-copied): build it again once
            log.warning("the cached ONNX model %s could not be read (%s); exporting it again", self.path, exc)
            self.fp32_path.unlink(missing_ok=True)
            self.path.unlink(missing_ok=True)
            self.session = self._session()

    def _session(self) -> Any:
        if not self.fp32_path.is_file():
            export(self.load_model, self.fp32_path)
        if self.int8 and not self.path.is_file():
            quantize(self.fp32_path, self.path)
        options = self.ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = self.ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = self.ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return self.ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        feeds = {"input_ids": input_ids.astype(np.int64, copy=False), "attention_mask": attention_mask}
        feeds["attention_mask"] = feeds["attention_mask"].astype(np.int64, copy=False)
        return self.session.run(["last_hidden_state"], feeds)[0]
