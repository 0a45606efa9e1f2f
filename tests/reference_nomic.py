"""A plain NumPy forward pass of a Nomic BERT sentence-embedding model, straight from safetensors.

Written from Nomic's modeling code (contrastors' NomicBertModel): token + token-type embeddings,
then layer norm; each block is fused QKV attention with rotary positions (GPT-NeoX layout: the
first half of each head's rotary dims pairs with the second half), residual + norm1, a gated MLP
`fc2(fc11(x) * silu(fc12(x)))`, residual + norm2. No PyTorch, no llama.cpp.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from reference_bert import _layer_norm
from safetensors.numpy import load_file


def _silu(x):
    return x / (1.0 + np.exp(-x))


def _rotate(x: np.ndarray, dims: int, base: float) -> np.ndarray:
    """Rotary embedding of x (heads, tokens, head_dim) over its first `dims` dimensions."""
    half = dims // 2
    inv_freq = 1.0 / base ** (np.arange(0, dims, 2, dtype=np.float64) / dims)
    angles = np.outer(np.arange(x.shape[1], dtype=np.float64), inv_freq)  # tokens × half
    cos, sin = np.cos(angles), np.sin(angles)
    x1, x2, rest = x[..., :half], x[..., half:dims], x[..., dims:]
    return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin, rest], axis=-1)


class NumpyNomicBert:
    def __init__(self, folder: Path, swap_gate: bool = False, rope_base: float | None = None):
        """`swap_gate` and `rope_base` deliberately get the model wrong, to show a test can tell."""
        self.config = json.loads((Path(folder) / "config.json").read_text())
        raw = load_file(str(Path(folder) / "model.safetensors"))
        self.w = {k.removeprefix("bert."): v.astype(np.float64) for k, v in raw.items()}
        self.swap_gate = swap_gate
        self.rope_base = rope_base or self.config.get("rotary_emb_base", 10000.0)

    def embed(self, token_ids: list[int]) -> np.ndarray:
        """Mean-pooled, L2-normalised sentence embedding for one tokenized text."""
        w, cfg = self.w, self.config
        eps = cfg.get("layer_norm_epsilon", 1e-5)
        heads = cfg["n_head"]
        n = len(token_ids)
        x = w["embeddings.word_embeddings.weight"][token_ids]
        if "embeddings.token_type_embeddings.weight" in w:
            x = x + w["embeddings.token_type_embeddings.weight"][0]
        x = _layer_norm(x, w["emb_ln.weight"], w["emb_ln.bias"], eps)
        for layer in range(cfg["n_layer"]):
            p = f"encoder.layers.{layer}."
            qkv = x @ w[p + "attn.Wqkv.weight"].T
            d = qkv.shape[1] // 3 // heads
            q, k, v = (qkv[:, i * heads * d : (i + 1) * heads * d].reshape(n, heads, d).transpose(1, 0, 2)
                       for i in range(3))
            dims = int(d * cfg.get("rotary_emb_fraction", 1.0))
            q, k = _rotate(q, dims, self.rope_base), _rotate(k, dims, self.rope_base)
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attn = ((scores / scores.sum(-1, keepdims=True)) @ v).transpose(1, 0, 2).reshape(n, heads * d)
            x = _layer_norm(attn @ w[p + "attn.out_proj.weight"].T + x,
                            w[p + "norm1.weight"], w[p + "norm1.bias"], eps)
            up, gate = (x @ w[p + f"mlp.{name}.weight"].T for name in ("fc11", "fc12"))
            if self.swap_gate:
                up, gate = gate, up
            x = _layer_norm((up * _silu(gate)) @ w[p + "mlp.fc2.weight"].T + x,
                            w[p + "norm2.weight"], w[p + "norm2.bias"], eps)
        pooled = x.mean(axis=0)
        return (pooled / np.linalg.norm(pooled)).astype(np.float32)
