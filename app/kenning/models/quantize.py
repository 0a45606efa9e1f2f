"""Quantize an F16 GGUF with llama.cpp's own quantizer."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from kenning.errors import ModelError
from kenning.models.gguf_file import read_gguf
from kenning.models.llama_log import quiet_llama
from kenning.paths import atomic_output

QUANTIZATIONS = {"f16": "MOSTLY_F16", "q8_0": "MOSTLY_Q8_0", "q4_k_m": "MOSTLY_Q4_K_M"}


def quantize(source: Path, output: Path, quant: str = "q8_0") -> Path:
    """Write `source` quantized to `quant` at `output`, atomically."""
    import llama_cpp

    if quant not in QUANTIZATIONS:
        raise ModelError(f"unknown quantization {quant!r}; choose one of {', '.join(QUANTIZATIONS)}")
    read_gguf(source)  # refuse damaged input before llama.cpp reads it
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_{QUANTIZATIONS[quant]}")
    params.nthread = os.cpu_count() or 1
    with quiet_llama(), atomic_output(Path(output)) as tmp:
        status = llama_cpp.llama_model_quantize(
            str(source).encode(), str(tmp).encode(), ctypes.byref(params)
        )
        if status != 0:
            raise ModelError(f"{source}: llama.cpp could not quantize it to {quant} (code {status})")
    return Path(output)
