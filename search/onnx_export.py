"""An ONNX copy of a sentence-transformers model's transformer, for fast query embedding.

ONNX Runtime runs one short query through multilingual-e5-small several times faster than
torch's eager mode (see the README, "Query embedding"), so the query path can use it while
passages stay embedded by sentence-transformers. Only the transformer is exported (token ids
and attention mask in, last hidden state out); mean pooling and L2 normalisation are done in
numpy by :class:`search.query_encoders.OnnxQueryEncoder` exactly as the model's
``Pooling``/``Normalize`` modules do.

The export lives beside the model directory (``<model>.onnx/``) and records a fingerprint of
the weights it was made from; a rebuilt or replaced model makes it stale, and a stale export is
never used (the query path falls back to torch). Optimum's exporter would do the same, but
``optimum-onnx`` requires transformers < 4.58 while this project pins 5.x, so this is a direct
``torch.onnx.export``.

No Django import: the build step and tests use it without settings.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

ONNX_FILE = "model.onnx"
SOURCE_FILE = "source.json"
# Bump when the exported graph changes in a way that requires existing exports to be redone.
EXPORT_VERSION = 2
OPSET = 17
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def export_dir_for(model_dir: Path) -> Path:
    """Where the export of ``model_dir`` lives: a sibling, so rebuilding the model keeps it."""
    model_dir = Path(model_dir)
    return model_dir.with_name(model_dir.name + ".onnx")


def model_fingerprint(model_dir: Path) -> dict[str, object]:
    """What identifies the weights cheaply: config and tokenizer content, weight file sizes
    and modification times (hashing 470 MB in every web worker would cost seconds)."""
    model_dir = Path(model_dir)
    digest = hashlib.sha256()
    for name in ("config.json", "tokenizer.json"):
        path = model_dir / name
        if path.is_file():
            digest.update(path.read_bytes())
    weights = {}
    for name in _WEIGHT_FILES:
        path = model_dir / name
        if path.is_file():
            stat = path.stat()
            weights[name] = [stat.st_size, stat.st_mtime_ns]
    return {"export_version": EXPORT_VERSION, "config_sha256": digest.hexdigest(),
            "weights": weights}


def is_export_current(model_dir: Path) -> bool:
    """True if the export beside ``model_dir`` was made from exactly these weights."""
    target = export_dir_for(model_dir)
    try:
        recorded = json.loads((target / SOURCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (target / ONNX_FILE).is_file() and recorded == model_fingerprint(model_dir)


def export_onnx(model_dir: Path, *, force: bool = False,
                progress: Callable[[str], None] = lambda _message: None) -> Path:
    """Export the transformer of the sentence-transformers model in ``model_dir`` to ONNX.

    Idempotent (a current export is kept unless ``force``) and safe to interrupt: the graph is
    written to a temporary file and renamed into place, the fingerprint written last.
    """
    import torch
    from sentence_transformers import SentenceTransformer

    model_dir = Path(model_dir)
    target = export_dir_for(model_dir)
    if not force and is_export_current(model_dir):
        progress(f"ONNX query model is up to date: {target}")
        return target / ONNX_FILE
    if not (model_dir / "modules.json").is_file():
        raise FileNotFoundError(f"{model_dir} is not a local sentence-transformers model")
    progress(f"Exporting {model_dir} to ONNX ...")
    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    transformer = _transformer_module(model[0].auto_model).eval()
    # Two texts of different length: the trace must see a padded batch, or the exporter may
    # specialise the attention mask away (an all-ones mask needs none).
    sample = model.tokenizer(["query: Abfallkalender", "query: Müllabfuhrtermine der Stadt Bonn"],
                             padding=True, return_tensors="pt")
    target.mkdir(parents=True, exist_ok=True)
    (target / SOURCE_FILE).unlink(missing_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".export-", suffix=".onnx", dir=target)
    os.close(handle)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # The tracer's notes on Python conditions in the attention code are expected (they
            # hold for every input of the encoder); tests compare the graph with torch.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                transformer, (sample["input_ids"], sample["attention_mask"]), temporary,
                input_names=["input_ids", "attention_mask"],
                output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                              "attention_mask": {0: "batch", 1: "tokens"},
                              "last_hidden_state": {0: "batch", 1: "tokens"}},
                opset_version=OPSET, dynamo=False,
            )
        os.replace(temporary, target / ONNX_FILE)
    finally:
        Path(temporary).unlink(missing_ok=True)
    (target / SOURCE_FILE).write_text(json.dumps(model_fingerprint(model_dir), indent=2) + "\n",
                                      encoding="utf-8")
    progress(f"Wrote {target / ONNX_FILE}")
    return target / ONNX_FILE


def _transformer_module(auto_model):
    """The Hugging Face model as a module with plain tensor inputs and one output."""
    import torch

    class TransformerOnly(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids,
                              attention_mask=attention_mask).last_hidden_state

    return TransformerOnly(auto_model)
