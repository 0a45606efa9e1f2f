"""Convert a Hugging Face BERT-family model folder into a GGUF file that llama.cpp loads.

Reads `config.json`, `model.safetensors` (or a `pytorch_model.bin` through a restricted reader that
needs no PyTorch), the WordPiece vocabulary (`vocab.txt` or `tokenizer.json`) and, for
sentence-transformers folders, `modules.json` and `1_Pooling/config.json` for the pooling type.
Matrices are written as F16, norms, biases and other 1-D tensors as F32.

Supported architectures: BERT (`BertModel`, and BERT checkpoints saved with task heads, whose heads
are dropped). Other architectures are refused with a message naming them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import gguf
import numpy as np

from kenning.errors import ModelError
from kenning.models.torch_pickle import load_pytorch_bin
from kenning.paths import atomic_output

SUPPORTED_ARCHITECTURES = ("BertModel", "BertForMaskedLM", "BertForPreTraining")
POOLING_BY_MODE = {
    "pooling_mode_mean_tokens": gguf.PoolingType.MEAN,
    "pooling_mode_cls_token": gguf.PoolingType.CLS,
    "pooling_mode_lasttoken": gguf.PoolingType.LAST,
}

_LAYER_PARTS = {
    "attention.self.query": "attn_q",
    "attention.self.key": "attn_k",
    "attention.self.value": "attn_v",
    "attention.output.dense": "attn_output",
    "attention.output.LayerNorm": "attn_output_norm",
    "intermediate.dense": "ffn_up",
    "output.dense": "ffn_down",
    "output.LayerNorm": "layer_output_norm",
}
_EMBEDDING_PARTS = {
    "embeddings.word_embeddings": "token_embd",
    "embeddings.position_embeddings": "position_embd",
    "embeddings.token_type_embeddings": "token_types",
    "embeddings.LayerNorm": "token_embd_norm",
}
SPECIAL_TOKENS = frozenset({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"})
_IGNORED = re.compile(r"^(pooler\.|cls\.|embeddings\.position_ids$)")
_LAYER = re.compile(r"^encoder\.layer\.(\d+)\.(.+)\.(weight|bias)$")


@dataclass(frozen=True)
class HFModel:
    folder: Path
    config: dict
    pooling: gguf.PoolingType
    vocab: list[str]
    name: str


ProgressFn = Callable[[int, int], None]


def read_hf_folder(folder: Path) -> HFModel:
    folder = Path(folder)
    config_path = folder / "config.json"
    if not folder.is_dir():
        raise ModelError(f"{folder}: not a folder")
    if not config_path.is_file():
        raise ModelError(f"{folder}: no config.json, so this is not a Hugging Face model folder")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{config_path}: unreadable config ({exc})") from exc
    architectures = config.get("architectures") or [config.get("model_type", "unknown")]
    architecture = architectures[0]
    if architecture not in SUPPORTED_ARCHITECTURES:
        raise ModelError(
            f"{folder}: architecture {architecture!r} is not supported; "
            f"Kenning converts {', '.join(SUPPORTED_ARCHITECTURES)}"
        )
    if config.get("position_embedding_type", "absolute") != "absolute":
        raise ModelError(f"{config_path}: only absolute position embeddings are supported")
    if config.get("hidden_act", "gelu") not in ("gelu", "gelu_new"):
        raise ModelError(f"{config_path}: activation {config.get('hidden_act')!r} is not supported")
    return HFModel(folder, config, _read_pooling(folder), _read_vocab(folder), folder.name)


def _read_pooling(folder: Path) -> gguf.PoolingType:
    modules_path = folder / "modules.json"
    pooling_dir = folder / "1_Pooling"
    if modules_path.is_file():
        for module in json.loads(modules_path.read_text(encoding="utf-8")):
            if module.get("type", "").endswith("Pooling"):
                pooling_dir = folder / module.get("path", "1_Pooling")
    pooling_config = pooling_dir / "config.json"
    if not pooling_config.is_file():
        return gguf.PoolingType.CLS  # plain BERT checkpoints: the [CLS] vector
    settings = json.loads(pooling_config.read_text(encoding="utf-8"))
    for mode, pooling in POOLING_BY_MODE.items():
        if settings.get(mode):
            return pooling
    raise ModelError(f"{pooling_config}: no pooling mode Kenning supports (mean, cls, last token)")


def _read_vocab(folder: Path) -> list[str]:
    vocab_txt = folder / "vocab.txt"
    if vocab_txt.is_file():
        return vocab_txt.read_text(encoding="utf-8").splitlines()
    tokenizer_json = folder / "tokenizer.json"
    if tokenizer_json.is_file():
        model = json.loads(tokenizer_json.read_text(encoding="utf-8")).get("model", {})
        if model.get("type") != "WordPiece":
            raise ModelError(f"{tokenizer_json}: tokenizer {model.get('type')!r} is not WordPiece")
        by_id = sorted(model["vocab"].items(), key=lambda item: item[1])
        return [token for token, _ in by_id]
    raise ModelError(f"{folder}: no vocab.txt or tokenizer.json")


def _weights(folder: Path) -> dict[str, np.ndarray]:
    safetensors_path = folder / "model.safetensors"
    bin_path = folder / "pytorch_model.bin"
    if safetensors_path.is_file():
        from safetensors.numpy import load_file

        try:
            return load_file(str(safetensors_path))
        except Exception as exc:  # safetensors raises its own error types for damaged files
            raise ModelError(f"{safetensors_path}: cannot read weights ({exc})") from exc
    if bin_path.is_file():
        return load_pytorch_bin(bin_path)
    raise ModelError(f"{folder}: no weights (model.safetensors or pytorch_model.bin)")


def gguf_tensor_name(hf_name: str) -> str | None:
    """The llama.cpp tensor name for a Hugging Face BERT tensor, or None if it is not needed."""
    name = hf_name.removeprefix("bert.")
    name = name.replace(".gamma", ".weight").replace(".beta", ".bias")
    if _IGNORED.match(name):
        return None
    stem, _, kind = name.rpartition(".")
    if stem in _EMBEDDING_PARTS:
        return f"{_EMBEDDING_PARTS[stem]}.{kind}"
    layer = _LAYER.match(name)
    if layer and layer.group(2) in _LAYER_PARTS:
        return f"blk.{layer.group(1)}.{_LAYER_PARTS[layer.group(2)]}.{layer.group(3)}"
    raise ModelError(f"unexpected tensor {hf_name!r}: not part of a BERT encoder")


def _phantom_space(token: str) -> str:
    """llama.cpp's WordPiece marks word starts with U+2581 instead of marking continuations."""
    if token in SPECIAL_TOKENS:
        return token
    if token.startswith("##"):
        return token[2:]
    return "\u2581" + token


def _converted_tensors(weights: dict[str, np.ndarray]) -> Iterator[tuple[str, np.ndarray]]:
    for hf_name in sorted(weights):
        name = gguf_tensor_name(hf_name)
        if name is None:
            continue
        data = weights[hf_name]
        # llama.cpp adds position and token-type rows to F32 activations, which needs F32 there.
        wide = data.ndim == 1 or name.startswith(("position_embd", "token_types"))
        data = data.astype(np.float32 if wide else np.float16)
        yield name, data


def convert_to_gguf(folder: Path, output: Path, progress: ProgressFn | None = None) -> Path:
    """Write an F16 GGUF for the model in `folder` to `output`, atomically."""
    model = read_hf_folder(folder)
    weights = _weights(model.folder)
    tensors = list(_converted_tensors(weights))
    config = model.config
    required = {"token_embd.weight", "position_embd.weight", "token_embd_norm.weight"}
    missing = required - {name for name, _ in tensors}
    if missing:
        raise ModelError(f"{folder}: weights lack {', '.join(sorted(missing))}")
    vocab_size = config.get("vocab_size", len(model.vocab))
    if len(model.vocab) != vocab_size:
        raise ModelError(f"{folder}: vocabulary has {len(model.vocab)} tokens, config says {vocab_size}")

    with atomic_output(Path(output)) as tmp:
        writer = gguf.GGUFWriter(str(tmp), arch="bert")
        writer.add_name(model.name)
        writer.add_context_length(config["max_position_embeddings"])
        writer.add_embedding_length(config["hidden_size"])
        writer.add_feed_forward_length(config["intermediate_size"])
        writer.add_block_count(config["num_hidden_layers"])
        writer.add_head_count(config["num_attention_heads"])
        writer.add_layer_norm_eps(config.get("layer_norm_eps", 1e-12))
        writer.add_causal_attention(False)
        writer.add_pooling_type(model.pooling)
        writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
        _add_vocab(writer, model.vocab, config)
        for name, data in tensors:
            writer.add_tensor(name, data)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file(progress=False)
        writer.close()
        if progress:
            progress(len(tensors), len(tensors))
    return Path(output)


def _add_vocab(writer: gguf.GGUFWriter, vocab: list[str], config: dict) -> None:
    index = {token: i for i, token in enumerate(vocab)}

    def special(token: str) -> int:
        if token not in index:
            raise ModelError(f"vocabulary lacks the special token {token}")
        return index[token]

    token_types = [
        gguf.TokenType.CONTROL if t in SPECIAL_TOKENS else gguf.TokenType.NORMAL for t in vocab
    ]
    writer.add_tokenizer_model("bert")
    writer.add_tokenizer_pre("default")
    writer.add_token_list([_phantom_space(t) for t in vocab])
    writer.add_token_types(token_types)
    writer.add_token_type_count(config.get("type_vocab_size", 2))
    writer.add_bos_token_id(special("[CLS]"))
    writer.add_uint32("tokenizer.ggml.cls_token_id", special("[CLS]"))
    writer.add_sep_token_id(special("[SEP]"))
    writer.add_unk_token_id(special("[UNK]"))
    writer.add_pad_token_id(special("[PAD]"))
    writer.add_mask_token_id(special("[MASK]"))
