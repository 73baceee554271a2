"""Release and access of hub repos, unit by unit: visibility, gating, acceptance, decisions and listings."""

from __future__ import annotations

from valuechain.hub.access import request_id
from valuechain.hub.models import HubAccess


def test_request_ids_are_opaque_and_stable() -> None:
    access = HubAccess(repo_id="rep_1", org_id="org_1", status="pending")
    assert request_id(access) == "ar_cbe77d65c5c02dcd49ccd31e"  # sha256("rep_1:org_1")[:24]
    other = HubAccess(repo_id="rep_1", org_id="org_2", status="pending")
    assert request_id(other) != request_id(access)
