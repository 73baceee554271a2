"""The adapter as llama.cpp reads it: tensor names, shapes, and the rope row order of q/k ``lora_B``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from valuechain.finetune.lora_gguf import AdapterShape, gguf_tensors, permute_rows, write_lora_gguf

torch = pytest.importorskip("torch")
gguf = pytest.importorskip("gguf")


def test_permutation_is_llama_cpps_rope_reordering() -> None:
    """Per head, rows (0, 1, 2, 3) | (4, 5, 6, 7) become (0, 4, 1, 5, ...): the halves are interleaved."""
    b = np.arange(16, dtype=np.float32).reshape(8, 2)  # out=8, r=2, one head of 8 rows
    got = permute_rows(b, n_head=1)
    assert got[:, 0].tolist() == [0, 8, 2, 10, 4, 12, 6, 14]
    two_heads = permute_rows(np.arange(8, dtype=np.float32).reshape(8, 1), n_head=2)
    assert two_heads[:, 0].tolist() == [0, 2, 1, 3, 4, 6, 5, 7]


def _state(n_layers: int = 2, hidden: int = 16, kv: int = 8, r: int = 4) -> dict[str, object]:
    state = {}
    for i in range(n_layers):
        prefix = f"base_model.model.model.layers.{i}.self_attn"
        state[f"{prefix}.q_proj.lora_A.weight"] = torch.randn(r, hidden)
        state[f"{prefix}.q_proj.lora_B.weight"] = torch.randn(hidden, r)
        state[f"{prefix}.v_proj.lora_A.weight"] = torch.randn(r, hidden)
        state[f"{prefix}.v_proj.lora_B.weight"] = torch.randn(kv, r)
    return state


def test_q_lora_b_is_permuted_and_v_is_not() -> None:
    state = _state()
    shape = AdapterShape(n_head=4, n_head_kv=2, alpha=16.0)
    tensors = gguf_tensors(state, shape)
    assert sorted(tensors) == sorted(
        f"blk.{i}.attn_{p}.weight.lora_{ab}" for i in (0, 1) for p in "qv" for ab in "ab"
    )
    q_b = state["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"].numpy()
    assert np.array_equal(tensors["blk.0.attn_q.weight.lora_b"], permute_rows(q_b, 4))
    assert not np.array_equal(tensors["blk.0.attn_q.weight.lora_b"], q_b)
    v_b = state["base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"].numpy()
    assert np.array_equal(tensors["blk.1.attn_v.weight.lora_b"], v_b)


def test_written_file_is_a_lora_adapter(tmp_path: Path) -> None:
    path = tmp_path / "a.gguf"
    write_lora_gguf(path, _state(), AdapterShape(n_head=4, n_head_kv=2, alpha=16.0), name="t")
    reader = gguf.GGUFReader(str(path))
    fields = {name: reader.fields[name] for name in ("general.type", "adapter.type", "adapter.lora.alpha")}
    text = {k: bytes(v.parts[v.data[0]]).decode() for k, v in fields.items() if k != "adapter.lora.alpha"}
    assert text == {"general.type": "adapter", "adapter.type": "lora"}
    assert float(fields["adapter.lora.alpha"].parts[-1][0]) == 16.0
    assert len(reader.tensors) == 8


def test_an_unexpected_tensor_is_refused() -> None:
    with pytest.raises(ValueError, match="unexpected adapter tensor"):
        gguf_tensors({"model.embed_tokens.weight": torch.zeros(2, 2)}, AdapterShape(1, 1, 1.0))
