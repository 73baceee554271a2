"""Schemathesis over the channels routes only (the whole-surface run is tests/test_fuzz.py): no 5xx."""

from __future__ import annotations

import pytest

from tests.conftest import make_key
from tests.gateway.conftest import World
from tests.test_fuzz import _fuzz, sqlite_only_fuzz  # noqa: F401  (the fixture, shared)
from tests.test_fuzz import world as fuzz_world  # noqa: F401

PREFIXES = (
    "/api/v1/white-label",
    "/api/v1/resellers",
    "/api/v1/webhooks",
    "/api/v1/notifications",
    "/api/v1/brand",
    "/api/v1/offers/{offer_id}/kit",
    "/api/v1/offers/{offer_id}/s",
    "/api/v1/models/{org}/{name}/versions/{label}/lifecycle",
)


@pytest.mark.slow
@pytest.mark.parametrize("prefix", PREFIXES)
def test_channels_routes_answer_no_5xx(fuzz_world: World, prefix: str) -> None:  # noqa: F811
    import schemathesis

    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_world.app)
    key = make_key(fuzz_world.db, "acme", "owner")
    failures, statuses = _fuzz(schema, prefix, {"Authorization": f"Bearer {key}"})
    assert sum(statuses.values()) > 0
    assert failures == [], "\n".join(failures)
