"""Convert a Hugging Face encoder model folder into a GGUF file that llama.cpp loads.

Reads `config.json`, `model.safetensors` (or a `pytorch_model.bin` through a restricted reader that
needs no PyTorch), the tokenizer (`vocab.txt` or `tokenizer.json`, see convert_vocab) and, for
sentence-transformers folders, `modules.json` and `1_Pooling/config.json` for the pooling type.
Matrices are written as F16, norms, biases and other 1-D tensors as F32.

Supported architectures (see convert_arch): BERT (`BertModel`, and BERT checkpoints saved with task
heads, whose heads are dropped), `XLMRobertaModel` and `NomicBertModel`, each with a WordPiece or
SentencePiece Unigram tokenizer. Other architectures are refused with a message naming them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import gguf
import numpy as np

from kenning.errors import ModelError
from kenning.models.convert_arch import (
    ARCHITECTURES,
    Architecture,
    add_hparams,
    check_config,
    context_length,
    gguf_tensor_name,
    layer_count,
    prepare_weights,
)
from kenning.models.convert_vocab import Vocab, add_vocab, read_vocab
from kenning.models.torch_pickle import load_pytorch_bin
from kenning.paths import atomic_output

__all__ = ["SUPPORTED_ARCHITECTURES", "HFModel", "convert_to_gguf", "gguf_tensor_name", "read_hf_folder"]

SUPPORTED_ARCHITECTURES = tuple(ARCHITECTURES)
POOLING_BY_MODE = {
    "pooling_mode_mean_tokens": gguf.PoolingType.MEAN,
    "pooling_mode_cls_token": gguf.PoolingType.CLS,
    "pooling_mode_lasttoken": gguf.PoolingType.LAST,
}


@dataclass(frozen=True)
class HFModel:
    folder: Path
    config: dict
    pooling: gguf.PoolingType
    vocab: Vocab
    name: str
    architecture: Architecture


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
    if architecture not in ARCHITECTURES:
        raise ModelError(
            f"{folder}: architecture {architecture!r} is not supported; "
            f"Kenning converts {', '.join(SUPPORTED_ARCHITECTURES)}"
        )
    arch = ARCHITECTURES[architecture]
    check_config(arch, config, str(config_path))
    return HFModel(folder, config, _read_pooling(folder), read_vocab(folder), folder.name, arch)


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
    arch, config = model.architecture, model.config
    weights = prepare_weights(arch, config, _weights(model.folder))
    tensors = list(_converted_tensors(weights))
    shapes = {name: data.shape for name, data in tensors}
    arch.check_tensors(set(shapes), layer_count(arch, config), str(folder))
    positions = shapes.get("position_embd.weight", (None,))[0]
    if positions is not None and positions != context_length(arch, config):  # llama.cpp needs equal
        raise ModelError(f"{folder}: {positions} position embeddings for a context of "
                         f"{context_length(arch, config)}")
    vocab_rows = shapes["token_embd.weight"][0]
    if config.get("vocab_size", vocab_rows) != vocab_rows:
        raise ModelError(f"{folder}: {vocab_rows} token embeddings, config says {config['vocab_size']}")
    token_types = shapes["token_types.weight"][0] if "token_types.weight" in shapes else 1

    with atomic_output(Path(output)) as tmp:
        writer = gguf.GGUFWriter(str(tmp), arch=arch.gguf_arch)
        writer.add_name(model.name)
        add_hparams(writer, arch, config)
        writer.add_pooling_type(model.pooling)
        writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
        add_vocab(writer, model.vocab, vocab_rows, token_types, str(folder))
        for name, data in tensors:
            writer.add_tensor(name, data)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file(progress=False)
        writer.close()
        if progress:
            progress(len(tensors), len(tensors))
    return Path(output)

