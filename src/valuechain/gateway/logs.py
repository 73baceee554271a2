"""Request logs per the offer's logging policy: off, metadata only, or full bodies with a retention
period; API secrets are always scrubbed, e-mail addresses and phone numbers optionally."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from valuechain.core.security import SECRET_PATTERN
from valuechain.gateway.models import RequestLog
from valuechain.gateway.records import Outcome, RequestLogRow, UsageRow
from valuechain.market.terms import LoggingPolicy

# Secrets anywhere in a string, glued to words included (`KEYvc_…`, issue 17): our own keys by their shape
# wherever they start; OpenAI-style `sk-` keys at a word boundary, or glued when their run holds a digit
# or a capital (so prose such as "task-specific-fine-tuning" stays readable). A match runs to the end of
# the key-character run, so whatever is glued after a secret goes with it.
_SECRET = re.compile(
    rf"{SECRET_PATTERN}"
    r"|\bsk-[A-Za-z0-9_\-]{16,}"
    r"|sk-(?=[a-z_\-]*[A-Z0-9])[A-Za-z0-9_\-]{16,}"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\w])\+?\d[\d \-().]{7,}\d(?![\w])")


def redact(text: str, *, pii: bool) -> str:
    """Scrub secrets always, and e-mail addresses and phone numbers when ``pii``."""
    text = _SECRET.sub("[secret]", text)
    if pii:
        text = _EMAIL.sub("[email]", text)
        text = _PHONE.sub("[phone]", text)
    return text


def redact_body(value: Any, *, pii: bool) -> Any:
    """A JSON body with every string scrubbed, object keys included, at any depth."""
    if isinstance(value, str):
        return redact(value, pii=pii)
    if isinstance(value, list | tuple):
        return [redact_body(v, pii=pii) for v in value]
    if isinstance(value, dict):
        scrubbed: dict[str, Any] = {}
        for key, item in value.items():
            name = base = redact(str(key), pii=pii)
            number = 0
            while name in scrubbed:  # two keys scrubbed to one name must not overwrite each other
                number += 1
                name = f"{base}#{number}"
            scrubbed[name] = redact_body(item, pii=pii)
        return scrubbed
    return value


def build_log(policy: LoggingPolicy, usage: UsageRow, outcome: Outcome) -> RequestLogRow | None:
    """The log row of one request, or None when the policy is ``off``."""
    if policy.mode == "off":
        return None
    meta = {
        "endpoint": usage.endpoint,
        "model": usage.model,
        "stream": usage.stream,
        "status": usage.status,
        "error_code": usage.error_code,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "latency_ms": usage.latency_ms,
        "cost": usage.cost,
    }
    request_body = response_body = None
    if policy.mode == "full":
        request_body = redact_body(outcome.request_body, pii=policy.redact_pii)
        if outcome.response_text is not None:
            response_body = {"text": redact(outcome.response_text, pii=policy.redact_pii)}
    created: datetime = usage.created_at
    return RequestLogRow(
        id=usage.id,
        created_at=created,
        expires_at=created + timedelta(days=policy.retention_days),
        org_id=usage.org_id,
        provider_org_id=usage.provider_org_id,
        key_id=usage.key_id,
        offer_id=usage.offer_id,
        mode=policy.mode,
        meta=meta,
        request_body=request_body,
        response_body=response_body,
    )


def purge_expired(session: Session, *, now: datetime) -> int:
    """Delete logs past their retention; returns how many."""
    result = session.execute(delete(RequestLog).where(RequestLog.expires_at <= now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
