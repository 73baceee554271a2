"""Traceable copies: the marks land in GGUF key-values and the safetensors header, the tensors are
unchanged, every licence gives other bytes, and a signed manifest catches any change."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from valuechain.core.errors import ValidationError
from valuechain.market.copies import SigningKey, read_marks, sign_manifest, stamp, verify_manifest

MARKS = {"licence_id": "lic_1", "buyer": "acme", "offer": "off_1"}


def _gguf(path: Path) -> Path:
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_string("general.name", "tiny")
    writer.add_tensor("a", np.arange(5, dtype=np.float32))
    writer.add_tensor("b", np.ones((3, 7), dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_gguf_copy_keeps_tensors_and_carries_the_licence(tmp_path: Path) -> None:
    source = _gguf(tmp_path / "m.gguf")
    first, second = tmp_path / "1.gguf", tmp_path / "2.gguf"
    stamp(source, "m.gguf", MARKS).write(first)
    stamp(source, "m.gguf", MARKS | {"licence_id": "lic_2"}).write(second)
    assert read_marks(first) == MARKS and read_marks(second)["licence_id"] == "lic_2"
    assert first.read_bytes() != second.read_bytes()
    original, copy = gguf.GGUFReader(source), gguf.GGUFReader(first)
    for a, b in zip(original.tensors, copy.tensors, strict=True):
        assert a.name == b.name and np.array_equal(a.data, b.data)
    assert bytes(copy.fields["general.name"].parts[-1]) == b"tiny"
    assert read_marks(source) == {}
    with pytest.raises(ValidationError):  # a copy is not stamped twice
        stamp(first, "m.gguf", MARKS)


def test_safetensors_copy_keeps_tensors_and_metadata(tmp_path: Path) -> None:
    source = tmp_path / "model.safetensors"
    save_file({"w": np.arange(6, dtype=np.float32).reshape(2, 3)}, str(source), metadata={"format": "np"})
    target = tmp_path / "copy.safetensors"
    stamp(source, "model.safetensors", MARKS).write(target)
    assert read_marks(target) == MARKS
    assert np.array_equal(load_file(str(target))["w"], load_file(str(source))["w"])
    other = tmp_path / "x.bin"
    other.write_bytes(b"not weights")
    with pytest.raises(ValidationError):  # only weights files carry a licence
        stamp(other, "x.bin", MARKS)


def test_manifest_signature_is_checked_offline(tmp_path: Path) -> None:
    key = SigningKey.of_home(tmp_path)
    assert SigningKey.of_home(tmp_path).public_b64() == key.public_b64()  # the key persists
    signed = sign_manifest(key, {"licence_id": "lic_1", "files": [{"path": "a", "sha256": "0" * 64}]})
    assert verify_manifest(signed, public_key_b64=key.public_b64()) == []
    assert verify_manifest(signed, public_key_b64=SigningKey.of_home(tmp_path / "other").public_b64())
    assert verify_manifest(signed, files={"a": b"changed"})
    signed["manifest"]["licence_id"] = "lic_2"
    assert verify_manifest(signed)
