"""Compliance routes for the authorization matrix (tests/api/test_authz_matrix.py adds them to its CASES)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PRINCIPALS = ("owner", "admin", "member", "viewer", "outsider", "operator", "anonymous")


def _expect(default: int, **overrides: int) -> dict[str, int]:
    table = {p: default for p in PRINCIPALS}
    table["anonymous"] = 401
    table.update(overrides)
    return table


@dataclass(frozen=True)
class MatrixCase:
    """Same attributes as the matrix's ``Case``."""

    method: str
    path: str
    expect: dict[str, int]
    body: Any = None
    raw: bytes | None = None
    hidden: tuple[str, ...] = field(default=())


OWN_READ = _expect(200, outsider=404)

COMPLIANCE_CASES = [
    MatrixCase("GET", "/api/v1/obligations", _expect(200), hidden=("alpha/private",)),
    MatrixCase(
        "POST",
        "/api/v1/obligations/whatif",
        OWN_READ,
        body={"changes": ["models[alpha/private].weights_public=true"]},
    ),
    MatrixCase("GET", "/api/v1/models/alpha/private/bom", OWN_READ),
    MatrixCase("GET", "/api/v1/models/alpha/private/docs/annex-xi", OWN_READ),
    MatrixCase("GET", "/api/v1/models/alpha/private/docs/annex-xii", OWN_READ),
    MatrixCase("GET", "/api/v1/models/alpha/private/docs/summary", OWN_READ),
]
