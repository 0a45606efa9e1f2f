"""A plain NumPy forward pass of a BERT sentence-embedding model, straight from safetensors.

The independent reference the converted GGUF is checked against: no PyTorch, no llama.cpp.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file


def _layer_norm(x, weight, bias, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x):  # exact (erf) GELU, as BERT uses
    erf = np.vectorize(math.erf, otypes=[np.float64])
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


class NumpyBert:
    def __init__(self, folder: Path):
        self.config = json.loads((Path(folder) / "config.json").read_text())
        raw = load_file(str(Path(folder) / "model.safetensors"))
        self.w = {k.removeprefix("bert.").removeprefix("roberta."): v.astype(np.float64)
                  for k, v in raw.items()}
        # XLM-RoBERTa numbers positions from padding_idx + 1, as Hugging Face's model does
        roberta = self.config.get("model_type") == "xlm-roberta"
        self.first_position = self.config.get("pad_token_id", 1) + 1 if roberta else 0

    def embed(self, token_ids: list[int]) -> np.ndarray:
        """Mean-pooled, L2-normalised sentence embedding for one tokenized text."""
        w, cfg = self.w, self.config
        eps = cfg.get("layer_norm_eps", 1e-12)
        heads = cfg["num_attention_heads"]
        n = len(token_ids)
        x = (
            w["embeddings.word_embeddings.weight"][token_ids]
            + w["embeddings.position_embeddings.weight"][self.first_position : self.first_position + n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        for layer in range(cfg["num_hidden_layers"]):
            p = f"encoder.layer.{layer}."

            def dense(name, h, p=p):
                return h @ w[p + name + ".weight"].T + w[p + name + ".bias"]

            q, k, v = (dense(f"attention.self.{m}", x) for m in ("query", "key", "value"))
            d = q.shape[1] // heads
            q, k, v = (m.reshape(n, heads, d).transpose(1, 0, 2) for m in (q, k, v))
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attn = (scores / scores.sum(-1, keepdims=True)) @ v
            attn = attn.transpose(1, 0, 2).reshape(n, heads * d)
            x = _layer_norm(
                dense("attention.output.dense", attn) + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                eps,
            )
            h = _gelu(dense("intermediate.dense", x))
            x = _layer_norm(
                dense("output.dense", h) + x,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                eps,
            )
        pooled = x.mean(axis=0)
        return (pooled / np.linalg.norm(pooled)).astype(np.float32)
