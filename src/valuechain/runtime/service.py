"""Use cases of the runtime: bind a model version to the backend that serves it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from valuechain.accounts.principal import Principal
from valuechain.core.audit import record_event
from valuechain.core.clock import utcnow
from valuechain.core.errors import ValidationError
from valuechain.core.ids import new_id
from valuechain.runtime.models import BackendBinding


def bind_backend(
    session: Session,
    *,
    version_id: str,
    kind: str,
    config: dict[str, Any],
    context_length: int = 2048,
    principal: Principal,
) -> BackendBinding:
    """Serve ``version_id`` with an embedded GGUF model or a remote OpenAI-compatible server."""
    if kind not in ("embedded", "remote"):
        raise ValidationError("kind must be embedded or remote")
    if kind == "remote" and not str(config.get("base_url", "")).startswith(("http://", "https://")):
        raise ValidationError("a remote backend needs base_url http(s)://…/v1")
    if any(k in config for k in ("api_key", "token", "secret")):
        raise ValidationError(
            "store the credential in an environment variable and give its name as api_key_env"
        )
    binding = session.execute(
        select(BackendBinding).where(BackendBinding.version_id == version_id)
    ).scalar_one_or_none()
    before = None
    if binding is None:
        binding = BackendBinding(
            id=new_id("bkd"),
            version_id=version_id,
            kind=kind,
            config=config,
            context_length=context_length,
            created_at=utcnow(),
        )
        session.add(binding)
    elif (binding.kind, binding.config, binding.context_length) == (kind, config, context_length):
        return binding
    else:
        before = {"kind": binding.kind, "config": binding.config, "context_length": binding.context_length}
        binding.kind, binding.config, binding.context_length = kind, config, context_length
    session.flush()
    record_event(
        session,
        actor=principal.actor,
        org_id=principal.org_id or None,
        action="backend.bind",
        subject_type="model_version",
        subject_id=version_id,
        before=before,
        after={"kind": kind, "config": config, "context_length": context_length},
    )
    return binding


def context_lengths(session: Session) -> dict[str, int]:
    """The context length each bound model version is served with, by version id."""
    rows = session.execute(select(BackendBinding.version_id, BackendBinding.context_length))
    return {version_id: context_length for version_id, context_length in rows}


@dataclass(frozen=True, slots=True)
class BindingRecord:
    """How a model version is served, as other domains read it."""

    version_id: str
    kind: str
    config: dict[str, Any]
    context_length: int


def binding_of(session: Session, version_id: str) -> BindingRecord | None:
    """The backend binding of a model version, or None."""
    row = session.execute(
        select(
            BackendBinding.version_id,
            BackendBinding.kind,
            BackendBinding.config,
            BackendBinding.context_length,
        ).where(BackendBinding.version_id == version_id)
    ).one_or_none()
    return BindingRecord(*row) if row is not None else None
