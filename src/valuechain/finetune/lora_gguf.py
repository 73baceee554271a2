"""A PEFT LoRA adapter written as a llama.cpp LoRA GGUF with the PyPI ``gguf`` writer.

llama.cpp's ``convert_lora_to_gguf.py`` writes the same tensors; its ``gguf-py`` is not the PyPI release,
so the adapter is written here. Tensors are PEFT's A (r × in) and B (out × r) under llama.cpp names; the rows
of q/k ``lora_B`` go through the rope permutation llama.cpp's converter applies to the q/k weights of a
Hugging Face llama checkpoint (issue 12), else the adapter would add its delta to the wrong rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

_PEFT_NAME = re.compile(r"layers\.(\d+)\.self_attn\.([qkvo])_proj\.lora_([AB])\.weight$")


@dataclass(frozen=True, slots=True)
class AdapterShape:
    """What the conversion needs to know of the base model."""

    n_head: int
    n_head_kv: int
    alpha: float


def permute_rows(b: np.ndarray, n_head: int) -> np.ndarray:
    """The rope row order of llama.cpp for a q/k ``lora_B`` (out × r): what its converter does to q/k."""
    out, r = b.shape
    return b.reshape(n_head, 2, out // n_head // 2, r).swapaxes(1, 2).reshape(out, r)


def gguf_tensors(state: dict[str, Any], shape: AdapterShape) -> dict[str, np.ndarray]:
    """PEFT state-dict tensors → llama.cpp LoRA tensor names and arrays (float32)."""
    tensors: dict[str, np.ndarray] = {}
    for name, value in state.items():
        match = _PEFT_NAME.search(name)
        if match is None:
            raise ValueError(f"unexpected adapter tensor {name}")
        layer, proj, ab = match.groups()
        array = np.ascontiguousarray(value.detach().to("cpu").float().numpy(), dtype=np.float32)
        if ab == "B" and proj in ("q", "k"):
            array = permute_rows(array, shape.n_head if proj == "q" else shape.n_head_kv)
        tensors[f"blk.{layer}.attn_{proj}.weight.lora_{ab.lower()}"] = np.ascontiguousarray(array)
    return tensors


def write_lora_gguf(path: Path, state: dict[str, Any], shape: AdapterShape, *, name: str) -> None:
    """Write the adapter ``state`` (PEFT names) to ``path`` as a llama.cpp LoRA GGUF."""
    import gguf

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_name(name)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(shape.alpha))
    for tensor_name, array in sorted(gguf_tensors(state, shape).items()):
        writer.add_tensor(tensor_name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
