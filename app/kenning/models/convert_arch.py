"""The encoder architectures the converter handles: config checks, hyperparameters, tensor names.

- BERT (`BertModel` and checkpoints with task heads): llama.cpp's "bert".
- XLM-RoBERTa (`XLMRobertaModel`): the same graph; its position ids start after the padding id,
  so the first `pad_token_id + 1` rows of the position table are dropped.
- Nomic BERT (`NomicBertModel`, nomic-embed-text v1/v1.5): llama.cpp's "nomic-bert": fused QKV
  without biases, rotary positions (NeoX layout), SwiGLU feed-forward, post-layer norms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import gguf
import numpy as np

from kenning.errors import ModelError

_BERT_LAYER = {
    "attention.self.query": "attn_q",
    "attention.self.key": "attn_k",
    "attention.self.value": "attn_v",
    "attention.output.dense": "attn_output",
    "attention.output.LayerNorm": "attn_output_norm",
    "intermediate.dense": "ffn_up",
    "output.dense": "ffn_down",
    "output.LayerNorm": "layer_output_norm",
}
_NOMIC_LAYER = {
    "attn.Wqkv": "attn_qkv",
    "attn.out_proj": "attn_output",
    "norm1": "attn_output_norm",
    "mlp.fc11": "ffn_up",  # nomic's MLP: fc2(fc11(x) * silu(fc12(x))); llama.cpp: up * silu(gate)
    "mlp.fc12": "ffn_gate",
    "mlp.fc2": "ffn_down",
    "norm2": "layer_output_norm",
}
_EMBEDDINGS = {
    "embeddings.word_embeddings": "token_embd",
    "embeddings.position_embeddings": "position_embd",
    "embeddings.token_type_embeddings": "token_types",
    "embeddings.LayerNorm": "token_embd_norm",
    "emb_ln": "token_embd_norm",
}
_LAYER = re.compile(r"^encoder\.(layer|layers)\.(\d+)\.(.+)\.(weight|bias)$")
_IGNORED = re.compile(r"^(pooler\.|cls\.|lm_head\.|embeddings\.position_ids$)")
_NORM_BIASES = frozenset({"attn_output_norm.bias", "layer_output_norm.bias"})


def gguf_tensor_name(hf_name: str) -> str | None:
    """The llama.cpp tensor name for a Hugging Face encoder tensor, or None if it is not needed."""
    name = hf_name.removeprefix("bert.").removeprefix("roberta.")
    name = name.replace(".gamma", ".weight").replace(".beta", ".bias")
    if _IGNORED.match(name):
        return None
    stem, _, kind = name.rpartition(".")
    if stem in _EMBEDDINGS:
        return f"{_EMBEDDINGS[stem]}.{kind}"
    layer = _LAYER.match(name)
    parts = _BERT_LAYER if layer and layer.group(1) == "layer" else _NOMIC_LAYER
    if layer and layer.group(3) in parts:
        return f"blk.{layer.group(2)}.{parts[layer.group(3)]}.{layer.group(4)}"
    raise ModelError(f"unexpected tensor {hf_name!r}: not part of a supported encoder")


@dataclass(frozen=True)
class Architecture:
    family: str  # "bert", "xlm-roberta" or "nomic-bert"
    gguf_arch: str
    required: frozenset[str]  # tensors besides the per-layer ones
    layer_required: frozenset[str]
    layer_optional: frozenset[str]

    def check_tensors(self, names: set[str], layers: int, where: str) -> None:
        expected = set(self.required) | {
            f"blk.{i}.{part}" for i in range(layers) for part in self.layer_required
        }
        optional = {"token_types.weight"} | {
            f"blk.{i}.{part}" for i in range(layers) for part in self.layer_optional
        }
        missing = sorted(expected - names)
        unexpected = sorted(names - expected - optional)
        if missing:
            raise ModelError(f"{where}: weights lack {', '.join(missing[:6])}")
        if unexpected:
            raise ModelError(f"{where}: tensors {', '.join(unexpected[:6])} do not belong in a "
                             f"{self.family} model")


_BERT_BIASES = frozenset(f"{part}.bias" for part in ("attn_q", "attn_k", "attn_v", "attn_output",
                                                    "ffn_up", "ffn_down"))
_EMBEDDING_TENSORS = frozenset({"token_embd.weight", "token_embd_norm.weight", "token_embd_norm.bias"})
_BERT = Architecture(
    "bert", "bert",
    required=_EMBEDDING_TENSORS | {"position_embd.weight"},
    layer_required=frozenset(f"{part}.weight" for part in _BERT_LAYER.values()) | _NORM_BIASES,
    layer_optional=_BERT_BIASES,
)
_NOMIC = Architecture(  # llama.cpp's nomic-bert graph uses no linear biases: none are accepted
    "nomic-bert", "nomic-bert",
    required=_EMBEDDING_TENSORS,
    layer_required=frozenset(f"{part}.weight" for part in _NOMIC_LAYER.values()) | _NORM_BIASES,
    layer_optional=frozenset(),
)
ARCHITECTURES = {
    "BertModel": _BERT,
    "BertForMaskedLM": _BERT,
    "BertForPreTraining": _BERT,
    "XLMRobertaModel": Architecture("xlm-roberta", "bert", _BERT.required, _BERT.layer_required,
                                    _BERT.layer_optional),
    "NomicBertModel": _NOMIC,
}


_BERT_KEYS = ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
              "max_position_embeddings")
_NOMIC_KEYS = ("n_embd", "n_layer", "n_head")


def check_config(arch: Architecture, config: dict, where: str) -> None:
    def refuse(what: str) -> None:
        raise ModelError(f"{where}: {what} is not supported")

    needed = _NOMIC_KEYS if arch.family == "nomic-bert" else _BERT_KEYS
    missing = [key for key in needed if not isinstance(config.get(key), int)]
    if missing:
        raise ModelError(f"{where}: the config lacks {', '.join(missing)}")
    if arch.family != "nomic-bert":
        if config.get("position_embedding_type", "absolute") != "absolute":
            refuse("a position embedding other than absolute")
        if config.get("hidden_act", "gelu") not in ("gelu", "gelu_new"):
            refuse(f"activation {config.get('hidden_act')!r}")
        return
    if config.get("moe_every_n_layers"):
        refuse("Nomic BERT with mixture-of-experts layers")
    if config.get("activation_function", "swiglu") != "swiglu":
        refuse(f"activation {config.get('activation_function')!r}")
    for key in ("qkv_proj_bias", "mlp_fc1_bias", "mlp_fc2_bias"):
        if config.get(key, True):
            refuse(f"{key}=true")
    for key in ("prenorm", "causal", "rotary_emb_interleaved", "parallel_block", "use_rms_norm"):
        if config.get(key):
            refuse(f"{key}=true")
    for key in ("rotary_emb_scale_base", "rotary_scaling_factor"):
        if config.get(key) is not None:
            refuse(f"{key}={config[key]}")
    if not 0 < config.get("rotary_emb_fraction", 1.0) <= 1:
        refuse(f"rotary_emb_fraction={config['rotary_emb_fraction']}")
    if config["n_embd"] % config["n_head"] or _rotary_dims(config) % 2:
        refuse(f"{config['n_head']} heads for width {config['n_embd']} with this rotary fraction")


def _rotary_dims(config: dict) -> int:
    return int(config["n_embd"] // config["n_head"] * config.get("rotary_emb_fraction", 1.0))


def _position_offset(arch: Architecture, config: dict) -> int:
    """XLM-RoBERTa numbers positions from pad_token_id + 1 (the rows before are never used)."""
    return config.get("pad_token_id", 1) + 1 if arch.family == "xlm-roberta" else 0


def prepare_weights(arch: Architecture, config: dict, weights: dict[str, np.ndarray]) -> dict:
    offset = _position_offset(arch, config)
    if not offset:
        return weights
    return {name: data[offset:] if name.endswith("embeddings.position_embeddings.weight") else data
            for name, data in weights.items()}


def layer_count(arch: Architecture, config: dict) -> int:
    return config["n_layer"] if arch.family == "nomic-bert" else config["num_hidden_layers"]


def context_length(arch: Architecture, config: dict) -> int:
    if arch.family == "nomic-bert":
        positions = config.get("n_positions", 2048)
        # nomic-embed v1/v1.5 declare 8,192 positions but were trained on 2,048
        return min(positions, config.get("max_trained_positions") or positions)
    return config["max_position_embeddings"] - _position_offset(arch, config)


def add_hparams(writer: gguf.GGUFWriter, arch: Architecture, config: dict) -> None:
    writer.add_causal_attention(False)
    writer.add_context_length(context_length(arch, config))
    if arch.family == "nomic-bert":
        writer.add_embedding_length(config["n_embd"])
        writer.add_feed_forward_length(config.get("n_inner") or 4 * config["n_embd"])
        writer.add_block_count(config["n_layer"])
        writer.add_head_count(config["n_head"])
        writer.add_layer_norm_eps(config.get("layer_norm_epsilon", 1e-5))
        writer.add_rope_freq_base(float(config.get("rotary_emb_base", 10000.0)))
        writer.add_rope_dimension_count(_rotary_dims(config))
        return
    default_eps = 1e-5 if arch.family == "xlm-roberta" else 1e-12
    writer.add_embedding_length(config["hidden_size"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_head_count(config["num_attention_heads"])
    writer.add_layer_norm_eps(config.get("layer_norm_eps", default_eps))
