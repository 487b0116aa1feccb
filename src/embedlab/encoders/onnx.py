"""The forward pass of a transformer encoder run by ONNX Runtime (fp32, or dynamic int8 quantization).

Only the forward pass moves: tokenization, long-text windows, pooling and normalisation stay in
`TransformerEncoder`, so every backend reads texts the same way. The model is exported once with
`torch.onnx.export` and kept in the user cache folder (`$EMBEDLAB_CACHE`, else `$XDG_CACHE_HOME/embedlab`,
else `~/.cache/embedlab`) under `onnx/<weights sha256>/`; `onnx-int8` is ONNX Runtime's own dynamic
quantization (`quantize_dynamic`, int8 weights, activations quantized per batch) of that export, after a
SmoothQuant rescaling (`Int8Settings`, `INT8`). The int8 file is named by a hash of its settings, and the
settings are in the recipe, so a change of settings never reuses an old file or mixes old vectors. Both files
are written atomically, so a crash or a second process never leaves a half-written model behind; a damaged
file in the cache is exported again.

Threads: ONNX Runtime uses one intra-op thread per CPU core this process may run on (`os.sched_getaffinity`,
2 on the development machine) and runs operators one after another (inter-op 1), as torch does by default.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import EmbedlabError, ModelUnavailableError
from embedlab.io.files import atomic_write

BACKENDS = ("torch", "onnx", "onnx-int8")
OPSET = 17
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


@dataclass(frozen=True)
class Int8Settings:
    """How `onnx-int8` quantizes the fp32 export: the arguments of ONNX Runtime's `quantize_dynamic`, plus the
    MatMuls kept in fp32 and an optional SmoothQuant step. Every field is part of the cached file's name and of
    the recipe (`TransformerEncoder.identity`), so vectors of other settings never mix with these."""

    weight_type: str = "QInt8"  # or "QUInt8"
    per_channel: bool = True
    reduce_range: bool = False
    op_types: tuple[str, ...] | None = ("MatMul",)  # None: every type ONNX Runtime can quantize (MatMul, Gather, ...)
    keep_fp32: tuple[str, ...] = (r"layer\.\d+/output/dense/",)  # regexes over MatMul node names left in fp32
    smooth: float | None = None  # SmoothQuant's alpha (None: off), calibrated on `calibration` batches

    def describe(self) -> dict[str, Any]:
        """The settings as JSON values (lists, not tuples), as a recipe stores and reads them back."""
        found: dict[str, Any] = {"method": "onnxruntime quantize_dynamic"}
        found.update({k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()})
        if self.smooth is not None:
            found["calibration"] = CALIBRATION
        return found

    def file_name(self) -> str:
        digest = hashlib.sha256(json.dumps(self.describe(), sort_keys=True).encode()).hexdigest()[:12]
        return f"model-int8-{digest}.onnx"


INT8 = Int8Settings(smooth=0.5)
CALIBRATION = "lee_background.cor (gensim test data): its sentences after the first 2,000"
CALIBRATION_SKIP = 2000  # the speed benchmark's and the settings' check texts are the first 2,000: held out


def calibration_texts() -> list[str]:
    """SmoothQuant's calibration texts: the Lee news sentences (5+ words) after the first 2,000, about 600.

    None of them is in `embedlab evaluate`'s data (Lee's 50 documents, the Pang & Lee sentences), nor in the
    2,000 sentences that benchmarks/int8_variants.py checks the settings on. gensim (a dependency) ships them.
    """
    import gensim

    corpus = Path(gensim.__file__).parent / "test" / "test_data" / "lee_background.cor"
    sentences = []
    for story in corpus.read_text(encoding="utf-8").splitlines():
        sentences += [s for s in re.split(r"(?<=[.!?])\s+", story.strip()) if len(s.split()) >= 5]
    return sentences[CALIBRATION_SKIP:]


def smooth_graph(model: Any, targets: list[Any], alpha: float, batches: Iterable[dict[str, np.ndarray]]) -> None:
    """SmoothQuant (Xiao et al. 2023) on an ONNX graph, in place: for each input X shared by MatMuls with constant
    weights W, X's per-channel range is divided by s = max|X|^alpha / max|W|^(1-alpha) (a Mul inserted before the
    MatMuls) and W's rows multiplied by s, so X @ W is unchanged in exact arithmetic while X's outlier channels
    shrink before the per-batch int8 quantization. max|X| comes from running the fp32 model on `batches`.

    Written by hand: ONNX Runtime's own SmoothQuant (`quantize_static(..., SmoothQuant=True)`) is for static
    quantization and needs Intel Neural Compressor."""
    import onnx
    from onnx import numpy_helper

    import_onnxruntime()
    weights = {t.name: t for t in model.graph.initializer}
    groups: dict[str, list[Any]] = {}
    for node in targets:
        groups.setdefault(node.input[0], []).append(node)
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for name in groups:
        probe.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    import onnxruntime

    session = onnxruntime.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    names = list(groups)
    peak = {name: None for name in names}
    for feeds in batches:
        for name, value in zip(names, session.run(names, feeds), strict=True):
            top = np.abs(value.reshape(-1, value.shape[-1])).max(0)
            peak[name] = top if peak[name] is None else np.maximum(peak[name], top)
    for number, (name, nodes) in enumerate(groups.items()):
        tensors = [weights[n.input[1]] for n in nodes]
        arrays = [numpy_helper.to_array(t) for t in tensors]
        w_max = np.max([np.abs(a).max(1) for a in arrays], axis=0)
        scale = np.power(np.maximum(peak[name], 1e-5), alpha) / np.power(np.maximum(w_max, 1e-5), 1 - alpha)
        scale = np.clip(scale, 1e-5, None).astype(np.float32)
        for tensor, array in zip(tensors, arrays, strict=True):
            tensor.CopyFrom(numpy_helper.from_array((array * scale[:, None]).astype(np.float32), tensor.name))
        inverse = f"smooth_{number}_inverse"
        model.graph.initializer.append(numpy_helper.from_array((1.0 / scale).astype(np.float32), inverse))
        smoothed = f"smooth_{number}_output"
        model.graph.node.append(onnx.helper.make_node("Mul", [name, inverse], [smoothed], name=f"smooth_{number}"))
        for node in nodes:
            node.input[0] = smoothed
    ordered = topological(model.graph)
    del model.graph.node[:]
    model.graph.node.extend(ordered)


def topological(graph: Any) -> list[Any]:
    """The graph's nodes in an order where each runs after the nodes making its inputs (ONNX requires it)."""
    ready = {i.name for i in graph.input} | {t.name for t in graph.initializer} | {""}
    pending, ordered = list(graph.node), []
    while pending:
        rest = []
        for node in pending:
            if all(i in ready for i in node.input):
                ordered.append(node)
                ready.update(node.output)
            else:
                rest.append(node)
        if len(rest) == len(pending):
            raise ValueError("the ONNX graph has a cycle or a missing input")
        pending = rest
    return ordered


def quantize(
    source: Path,
    target: Path,
    settings: Int8Settings = INT8,
    calibration: Callable[[], Iterable[dict[str, np.ndarray]]] | None = None,
) -> None:
    """ONNX Runtime's dynamic int8 quantization of `source` with `settings`, atomically.

    The default `INT8`, chosen by benchmarks/int8_variants.py (docs/speed.md has the table): per-channel int8
    weights on the MatMuls with constant weights, the feed-forward output projections (whose input is the GELU's
    long-tailed activations) left in fp32, and SmoothQuant (alpha 0.5) on the inputs of the others. Minimum /
    mean cosine to torch fp32 on 2,000 Lee sentences: 0.9976 / 0.9991 (without SmoothQuant 0.992 / 0.996;
    ONNX Runtime's defaults, per-tensor, 0.87).
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(source))
    constants = {t.name for t in model.graph.initializer}
    matmuls = [n for n in model.graph.node if n.op_type == "MatMul" and n.input[1] in constants]
    keep = [n.name for n in matmuls if any(re.search(p, n.name) for p in settings.keep_fp32)]
    if settings.smooth is not None:
        if calibration is None:
            raise ValueError("SmoothQuant needs calibration batches")
        smooth_graph(model, [n for n in matmuls if n.name not in keep], settings.smooth, calibration())
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_dynamic warns on the root logger about optional pre-processing
    try:
        with atomic_write(target) as temp:
            quantize_dynamic(
                model,
                str(temp),
                weight_type=getattr(QuantType, settings.weight_type),
                per_channel=settings.per_channel,
                reduce_range=settings.reduce_range,
                op_types_to_quantize=list(settings.op_types) if settings.op_types else None,
                nodes_to_exclude=keep,
            )
    finally:
        root.setLevel(level)


class OnnxForward:
    """`forward(input_ids, attention_mask)` -> last hidden state (numpy float32), run by ONNX Runtime on CPU."""

    def __init__(
        self,
        key: str,
        load_model: Callable[[], Any],
        int8: Int8Settings | None = None,
        threads: int | None = None,
        calibration: Callable[[], Iterable[dict[str, np.ndarray]]] | None = None,
    ) -> None:
        self.ort = import_onnxruntime()
        safe_key = key.replace(":", "-").replace("/", "_")
        self.folder = cache_root() / "onnx" / safe_key
        self.fp32_path = self.folder / "model.onnx"
        self.path = self.folder / int8.file_name() if int8 else self.fp32_path
        self.threads = threads or cpu_threads()
        self.load_model = load_model
        self.int8 = int8
        self.calibration = calibration
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
            quantize(self.fp32_path, self.path, self.int8, self.calibration)
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
