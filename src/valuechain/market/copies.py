"""Traceable copies of sold weights (issue 11, part 3): the licence id is written into each file's own
metadata (a GGUF key-value or the safetensors ``__metadata__`` header), so every buyer's file has its own
sha256, and ``trace`` reads it back. A manifest signed with the platform's Ed25519 key lets a buyer check
the origin offline. Header metadata can be stripped; surviving that needs weight fingerprinting
(not built).
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from valuechain.core.errors import ValidationError

KEYS = ("licence_id", "buyer", "offer")
GGUF_PREFIX = "valuechain."  # GGUF keys: valuechain.licence_id, valuechain.buyer, valuechain.offer
ST_PREFIX = "valuechain_"  # safetensors __metadata__ keys
_GGUF_MAGIC = b"GGUF"
_GGUF_STRING = 8


@dataclass(frozen=True, slots=True)
class StampedCopy:
    """A traceable copy: a new header, then the source file's bytes from ``tail_offset`` on (unchanged)."""

    source: Path
    head: bytes
    tail_offset: int

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        yield self.head
        with self.source.open("rb") as handle:
            handle.seek(self.tail_offset)
            while chunk := handle.read(size):
                yield chunk

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for chunk in self.chunks():
            digest.update(chunk)
        return digest.hexdigest()

    def write(self, target: Path) -> None:
        with target.open("wb") as handle:
            for chunk in self.chunks():
                handle.write(chunk)


def _magic(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(4)


def stamp(source: Path, name: str, marks: dict[str, str]) -> StampedCopy:
    """A copy of ``source`` with ``marks`` in its metadata (GGUF or safetensors); other files are refused."""
    if _magic(source) == _GGUF_MAGIC:
        return _stamp_gguf(source, marks)
    if name.endswith(".safetensors"):
        return _stamp_safetensors(source, marks)
    raise ValidationError(f"{name} is neither GGUF nor safetensors: a traceable copy cannot be made")


def read_marks(path: Path) -> dict[str, str]:
    """The valuechain marks in a file's metadata (empty when it has none or is not a weights file)."""
    if _magic(path) == _GGUF_MAGIC:
        return _gguf_marks(path)
    try:
        header, _ = _safetensors_header(path)
    except ValueError:
        return {}
    meta = header.get("__metadata__")
    if not isinstance(meta, dict):
        return {}
    return {k[len(ST_PREFIX) :]: str(v) for k, v in meta.items() if k.startswith(ST_PREFIX)}


def _safetensors_header(path: Path) -> tuple[dict[str, Any], int]:
    with path.open("rb") as handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            raise ValueError("too short")
        (size,) = struct.unpack("<Q", prefix)
        if size > path.stat().st_size - 8 or size > 100_000_000:
            raise ValueError("bad header length")
        try:
            header = json.loads(handle.read(size))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ValueError("bad header") from None
    if not isinstance(header, dict):
        raise ValueError("bad header")
    return header, 8 + size


def _stamp_safetensors(source: Path, marks: dict[str, str]) -> StampedCopy:
    try:
        header, tail = _safetensors_header(source)
    except ValueError as exc:
        raise ValidationError(f"not a safetensors file: {exc}") from None
    meta = header.get("__metadata__")
    meta = dict(meta) if isinstance(meta, dict) else {}
    meta.update({f"{ST_PREFIX}{k}": str(v) for k, v in marks.items()})
    header["__metadata__"] = meta
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # the format pads the header with spaces to 8-byte alignment
    return StampedCopy(source, struct.pack("<Q", len(raw)) + raw, tail)


def _gguf_string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def _stamp_gguf(source: Path, marks: dict[str, str]) -> StampedCopy:
    """Rewrite the GGUF header with extra string key-values; tensor data is copied byte for byte."""
    from gguf import GGUFReader

    reader = GGUFReader(source)
    kv_fields = [f for f in reader.fields.values() if not f.name.startswith("GGUF.")]
    if any(f.name.startswith(GGUF_PREFIX) for f in kv_fields):
        raise ValidationError("this GGUF file already carries valuechain marks")
    kv_start = 24  # magic, version, tensor count, key-value count
    kv_end = kv_start + sum(sum(p.nbytes for p in f.parts) for f in kv_fields)
    info_end = kv_end + sum(sum(p.nbytes for p in t.field.parts) for t in reader.tensors)
    extra = b"".join(
        _gguf_string(f"{GGUF_PREFIX}{k}") + struct.pack("<I", _GGUF_STRING) + _gguf_string(str(v))
        for k, v in marks.items()
    )
    with source.open("rb") as handle:
        original = handle.read(info_end)
    head = original[:8] + struct.pack("<QQ", len(reader.tensors), len(kv_fields) + len(marks))
    head += original[kv_start:kv_end] + extra + original[kv_end:info_end]
    head += b"\0" * (-len(head) % reader.alignment)  # tensor data starts aligned
    return StampedCopy(source, head, reader.data_offset)


def _gguf_marks(path: Path) -> dict[str, str]:
    from gguf import GGUFReader

    marks = {}
    try:  # any file may be sent to trace: a malformed header means no marks, never a crash
        reader = GGUFReader(path)
        for name, field in reader.fields.items():
            if name.startswith(GGUF_PREFIX):
                marks[name[len(GGUF_PREFIX) :]] = bytes(field.parts[field.data[0]]).decode()
    except Exception:  # noqa: BLE001 - gguf raises many kinds on malformed input
        return {}
    return marks


@dataclass(frozen=True, slots=True)
class SigningKey:
    """The platform's Ed25519 key that signs sale manifests (``HOME/market/sales.key``, 0600)."""

    private: Ed25519PrivateKey

    @classmethod
    def of_home(cls, home: Path) -> SigningKey:
        path = home / "market" / "sales.key"
        if path.exists():
            return cls(Ed25519PrivateKey.from_private_bytes(path.read_bytes()))
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        tmp = path.with_suffix(".new")
        tmp.touch(mode=0o600)
        from cryptography.hazmat.primitives import serialization

        tmp.write_bytes(
            key.private_bytes(
                serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
            )
        )
        try:
            tmp.rename(path) if not path.exists() else tmp.unlink()
        except FileExistsError:  # another process made it first: use theirs
            tmp.unlink(missing_ok=True)
        return cls(Ed25519PrivateKey.from_private_bytes(path.read_bytes()))

    def public_b64(self) -> str:
        from cryptography.hazmat.primitives import serialization

        raw = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return base64.b64encode(raw).decode()


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_manifest(key: SigningKey, body: dict[str, Any]) -> dict[str, Any]:
    """The manifest with its Ed25519 signature over the canonical JSON of ``body`` and the public key."""
    signature = base64.b64encode(key.private.sign(_canonical(body))).decode()
    return {"manifest": body, "signature": signature, "public_key": key.public_b64(), "alg": "Ed25519"}


def verify_manifest(
    signed: dict[str, Any], *, public_key_b64: str | None = None, files: dict[str, bytes] | None = None
) -> list[str]:
    """Problems with a signed manifest (empty: genuine), checked offline; ``files`` by path are re-hashed."""
    problems = []
    key_b64 = public_key_b64 or signed.get("public_key", "")
    if public_key_b64 and signed.get("public_key") != public_key_b64:
        problems.append("the manifest names another signing key than the one given")
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(key_b64)).verify(
            base64.b64decode(signed.get("signature", "")), _canonical(signed.get("manifest", {}))
        )
    except (InvalidSignature, ValueError):
        problems.append("the signature does not match the manifest")
    for entry in signed.get("manifest", {}).get("files", []):
        data = (files or {}).get(entry["path"])
        if data is not None and hashlib.sha256(data).hexdigest() != entry["sha256"]:
            problems.append(f"{entry['path']} does not match the manifest's sha256")
    return problems
