"""Which backend serves a model version (the registry's versions map to runtime backends)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from valuechain.core.db import Base, IdColumn, UTCDateTime


class BackendBinding(Base):
    """Serve ``version_id`` with an embedded GGUF model or a remote OpenAI-compatible server.

    ``config`` for ``embedded``: ``{"model_path": "...", "lora_path": "..."}`` (default: the bundled SmolLM2;
    ``lora_path``, optional, a llama.cpp LoRA GGUF served on that base: a fine-tune); for ``remote``:
    ``{"base_url": "http://host:8000/v1", "served_name": "...", "api_key_env": "ENV_VAR_NAME",
    "timeout_s": 120}`` — the credential itself is never stored, only the name of the variable holding it.
    """

    __tablename__ = "runtime_backends"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # embedded | remote
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    context_length: Mapped[int] = mapped_column(Integer, default=2048)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
