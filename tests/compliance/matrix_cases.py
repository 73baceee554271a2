"""Compliance routes for the authorization matrix (tests/api/test_authz_matrix.py adds them to its CASES)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from valuechain.accounts.roles import Scope

R, W = Scope.registry_read, Scope.registry_write

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
    scope: Scope | None = R


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
    # Accountability records (issue 13): evidence, documentation fields, incidents, complaints.
    MatrixCase("GET", "/api/v1/evidence", _expect(200)),
    MatrixCase(
        "POST",
        "/api/v1/evidence",
        _expect(201, member=403, viewer=403, outsider=404, operator=404),  # only alpha's admins sign
        body={
            "obligation": {"actor": "alpha", "subject": "alpha/private", "rule": "A53.1.c"},
            "kind": "evaluation",
            "sha256": "ab" * 32,
        },
        scope=W,
    ),
    MatrixCase(
        "POST",
        "/api/v1/models/alpha/private/docs/annex-xi/sign-off",
        _expect(422, member=403, viewer=403, outsider=404, operator=404),  # fields missing; not ops' model
        body={},
        scope=W,
    ),
    MatrixCase(
        "PATCH",
        "/api/v1/models/alpha/private/documentation",
        _expect(200, viewer=403, outsider=404),
        body={"architecture": "decoder-only transformer"},
        scope=W,
    ),
    MatrixCase("GET", "/api/v1/incidents", _expect(200)),
    MatrixCase(
        "POST",
        "/api/v1/incidents",
        _expect(201, viewer=403, outsider=404),
        body={"subject": "alpha/bot", "category": "health", "aware_on": "2026-11-01", "description": "harm"},
        scope=W,
    ),
    MatrixCase(
        "POST",
        "/api/v1/incidents/{incident}/reports",
        _expect(201, viewer=403, outsider=404),
        body={"kind": "initial", "text": "first report"},
        scope=W,
    ),
    MatrixCase("GET", "/api/v1/incidents/{incident}/export", OWN_READ),
    # Public: no account; a subject that is not public answers as a missing one for everybody.
    MatrixCase(
        "POST",
        "/api/v1/complaints",
        _expect(404, anonymous=404),
        body={"subject": "alpha/private", "text": "this model harmed me"},
        scope=None,
    ),
    MatrixCase("GET", "/api/v1/complaints/{complaint}", _expect(200, anonymous=200), scope=None),
    MatrixCase("GET", "/api/v1/complaints", _expect(200), hidden=("complaint-text-secret",)),
    MatrixCase(
        "POST",
        "/api/v1/complaints/{complaint}/answers",
        _expect(201, viewer=403, outsider=404, operator=404),  # routed to alpha only
        body={"text": "we are looking into it"},
        scope=W,
    ),
    MatrixCase(
        "POST",
        "/api/v1/inspector-grants",
        _expect(403, operator=201),
        body={
            "inspector": "beta",
            "orgs": ["alpha"],
            "valid_from": "2026-01-01",
            "valid_until": "2030-01-01",
        },
        scope=Scope.org_manage,
    ),
    # Only an inspector with a current grant reads; without one the organisation answers as missing.
    MatrixCase("GET", "/api/v1/inspections/alpha/obligations", _expect(404)),
    MatrixCase("GET", "/api/v1/inspections/alpha/evidence", _expect(404)),
    MatrixCase("GET", "/api/v1/inspections/alpha/evaluations", _expect(404)),
    MatrixCase("GET", "/api/v1/inspections/alpha/models/private", _expect(404)),
    MatrixCase("GET", "/api/v1/inspections/alpha/models/private/docs/annex-xi", _expect(404)),
    # Evaluation runs (issue 13 point 6): the provider or a granted inspector; alpha/private has no hub
    # weights, so the provider's run stops at the hub (404) after the permission check passed.
    MatrixCase("GET", "/api/v1/evaluations", _expect(200)),
    MatrixCase(
        "POST",
        "/api/v1/models/alpha/private/evaluations",
        _expect(404, viewer=403),
        body={"channel": "weights"},
        scope=Scope.inference,
    ),
    MatrixCase("GET", "/api/v1/models/alpha/private/evaluations/neutrality", OWN_READ | {"operator": 404}),
]
