"""Backends by model version, created from their bindings on first use and closed at shutdown."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select

from valuechain.core.db import Database
from valuechain.runtime.base import Backend, BackendUnavailableError
from valuechain.runtime.models import BackendBinding


def build_backend(kind: str, config: dict[str, object], *, context_length: int) -> Backend:
    """One backend from a binding's kind and config."""
    if kind == "embedded":
        from valuechain.runtime.llamacpp import LlamaConfig, LlamaCppBackend, bundled_model_path

        path = Path(str(config["model_path"])) if config.get("model_path") else bundled_model_path()
        threads = config.get("n_threads")
        lora = Path(str(config["lora_path"])) if config.get("lora_path") else None
        return LlamaCppBackend(
            LlamaConfig(
                model_path=path,
                lora_path=lora,
                n_ctx=context_length,
                n_threads=int(str(threads)) if threads else None,
            ),
            served_name=str(config.get("served_name") or path.stem),
        )
    if kind == "remote":
        from valuechain.runtime.remote import RemoteBackend

        env = config.get("api_key_env")
        return RemoteBackend(
            base_url=str(config["base_url"]),
            served_name=str(config.get("served_name") or "model"),
            api_key=os.environ.get(str(env)) if env else None,
            timeout_s=float(str(config.get("timeout_s") or 120.0)),
        )
    raise BackendUnavailableError(f"unknown backend kind {kind!r}")


class BackendPool:
    """Holds one live backend per model version."""

    def __init__(self, db: Database | None) -> None:
        self._db = db
        self._backends: dict[str, Backend] = {}

    def put(self, version_id: str, backend: Backend) -> None:
        """Serve ``version_id`` with ``backend`` (tests and benchmarks inject fakes this way)."""
        self._backends[version_id] = backend

    def get(self, version_id: str) -> Backend:
        backend = self._backends.get(version_id)
        if backend is not None:
            return backend
        if self._db is None:
            raise BackendUnavailableError("no backend serves this model")
        with self._db.session() as session:
            binding = session.execute(
                select(BackendBinding).where(BackendBinding.version_id == version_id)
            ).scalar_one_or_none()
            if binding is None:
                raise BackendUnavailableError("no backend is bound to this model version")
            backend = build_backend(binding.kind, binding.config, context_length=binding.context_length)
        self._backends[version_id] = backend
        return backend

    async def close(self) -> None:
        for backend in self._backends.values():
            await backend.close()
        self._backends.clear()
