"""Every console route, as an anonymous visitor and as an outsider of a private model: a matrix that fails
when a route is added without a line here (like tests/api/test_authz_matrix.py for the APIs)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.test_authz_matrix import _route_table
from tests.console.conftest import World, csrf_of, sign_in
from valuechain.console import ROUTERS

# (method, path) → (path to request with dev's private model, anonymous status, outsider status).
# 303: to /login; 403: no CSRF token (every POST is sent without one first); 404: hidden like a missing one.
MATRIX = {
    ("GET", "/login"): ("/login", 200, 200),
    ("POST", "/login"): ("/login", 403, 403),
    ("POST", "/logout"): ("/logout", 403, 403),
    ("POST", "/org/switch"): ("/org/switch", 403, 403),
    ("GET", "/"): ("/", 200, 200),
    ("GET", "/models/{org}/{name}"): ("/models/dev/secret", 404, 404),
    ("GET", "/models/{org}/{name}/lineage.svg"): ("/models/dev/secret/lineage.svg", 404, 404),
    ("GET", "/models/{org}/{name}/obligations"): ("/models/dev/secret/obligations", 404, 404),
    ("GET", "/models/{org}/{name}/docs/{kind}.{fmt}"): ("/models/dev/secret/docs/annex-xi.md", 303, 404),
    ("GET", "/models/{org}/{name}/bom.json"): ("/models/dev/secret/bom.json", 404, 404),
    ("POST", "/models/{org}/{name}/request-access"): ("/models/dev/secret/request-access", 403, 403),
    ("POST", "/models/{org}/{name}/accept-licence"): ("/models/dev/secret/accept-licence", 403, 403),
    ("GET", "/models/{org}/{name}/resolve/{path:path}"): ("/models/dev/secret/resolve/README.md", 404, 404),
    ("GET", "/org"): ("/org", 303, 200),
    ("POST", "/org/keys"): ("/org/keys", 403, 403),
    ("POST", "/org/keys/{key_id}/revoke"): ("/org/keys/key_x/revoke", 403, 403),
    ("GET", "/provider"): ("/provider", 303, 200),
    ("POST", "/provider/entitlements/{entitlement_id}"): ("/provider/entitlements/ent_x", 403, 403),
    ("POST", "/provider/access/{org}/{name}"): ("/provider/access/dev/secret", 403, 403),
    ("GET", "/compliance"): ("/compliance", 303, 200),
    ("GET", "/compliance/whatif"): ("/compliance/whatif", 303, 200),
    ("GET", "/compliance/neutrality"): ("/compliance/neutrality?model=dev/secret", 404, 404),
    ("GET", "/audit"): ("/audit", 303, 200),
    ("GET", "/audit/verify"): ("/audit/verify", 303, 403),
    ("GET", "/playground"): ("/playground", 303, 200),
    ("POST", "/playground"): ("/playground", 403, 403),
    ("POST", "/playground/chat"): ("/playground/chat", 403, 403),
    ("GET", "/notifications"): ("/notifications", 303, 200),
    ("GET", "/offers/{offer_id}/kit.zip"): ("/offers/off_missing/kit.zip", 404, 404),
    ("GET", "/market"): ("/market", 303, 200),
    ("POST", "/market/listings/{listing_id}/buy"): ("/market/listings/lst_x/buy", 403, 403),
    ("POST", "/market/licences/{licence_id}/{action}"): ("/market/licences/lic_x/renew", 403, 403),
    ("GET", "/market/licences/{licence_id}/files/{path:path}"): (
        "/market/licences/lic_x/files/a.gguf",
        303,
        404,
    ),
    ("GET", "/market/charges/{charge_id}/invoice"): ("/market/charges/chg_x/invoice", 303, 404),
    ("GET", "/market/sell"): ("/market/sell", 303, 200),
    ("POST", "/market/sell"): ("/market/sell", 403, 403),
    ("POST", "/market/listings/{listing_id}/withdraw"): ("/market/listings/lst_x/withdraw", 403, 403),
    ("POST", "/models/{org}/{name}/versions/{label}/lifecycle"): (
        "/models/dev/secret/versions/1/lifecycle",
        403,
        403,
    ),
    ("GET", "/offers/{offer_id}/service-level"): ("/offers/off_missing/service-level", 303, 404),
    ("POST", "/offers/{offer_id}/support"): ("/offers/off_missing/support", 403, 403),
    ("GET", "/resellers"): ("/resellers", 303, 200),
    ("POST", "/resellers"): ("/resellers", 403, 403),
    ("POST", "/resellers/{agreement_id}/revoke"): ("/resellers/agr_x/revoke", 403, 403),
    ("POST", "/white-label"): ("/white-label", 403, 403),
    ("POST", "/white-label/{offer_id}/customers"): ("/white-label/off_x/customers", 403, 403),
    ("POST", "/brand"): ("/brand", 403, 403),
    ("GET", "/fine-tuning"): ("/fine-tuning", 303, 200),
    ("GET", "/fine-tuning/{job_id}"): ("/fine-tuning/ftjob_x", 303, 404),
    ("POST", "/fine-tuning/{job_id}/cancel"): ("/fine-tuning/ftjob_x/cancel", 403, 403),
    ("GET", "/complain"): ("/complain?subject=dev/secret", 200, 200),
    ("GET", "/compliance/incidents"): ("/compliance/incidents", 303, 200),
    ("POST", "/compliance/incidents"): ("/compliance/incidents", 403, 403),
    ("POST", "/compliance/incidents/{incident_id}/reports"): (
        "/compliance/incidents/inc_x/reports",
        403,
        403,
    ),
    ("GET", "/models/{org}/{name}/documentation"): ("/models/dev/secret/documentation", 303, 404),
    ("POST", "/models/{org}/{name}/documentation"): ("/models/dev/secret/documentation", 403, 403),
    ("POST", "/models/{org}/{name}/docs/{kind}/sign-off"): (
        "/models/dev/secret/docs/annex-xi/sign-off",
        403,
        403,
    ),
    ("POST", "/complain"): ("/complain", 403, 403),
    ("GET", "/complaints/{complaint_id}"): ("/complaints/cmp_x", 404, 404),
    ("GET", "/compliance/complaints"): ("/compliance/complaints", 303, 200),
    ("POST", "/compliance/complaints/{complaint_id}/answer"): (
        "/compliance/complaints/cmp_x/answer",
        403,
        403,
    ),
}


def test_matrix_covers_every_console_route() -> None:
    routes = {r for router in ROUTERS for r in _route_table(router.routes) if r[0] != "HEAD"}
    assert routes == set(MATRIX), sorted(routes ^ set(MATRIX))


def test_console_route_matrix(client: TestClient, world: World) -> None:
    def call(method: str, path: str) -> int:
        return client.request(method, path, follow_redirects=False).status_code

    anonymous = {key: call(key[0], path) for key, (path, _, _) in MATRIX.items()}
    assert anonymous == {key: expected for key, (_, expected, _) in MATRIX.items()}
    sign_in(client, "out@example.com")
    outsider = {key: call(key[0], path) for key, (path, _, _) in MATRIX.items()}
    assert outsider == {key: expected for key, (_, _, expected) in MATRIX.items()}
    # with the token, the writes naming the private model still answer as for a missing one
    token = csrf_of(client.get("/org").text)
    for path in (
        "/models/dev/secret/request-access",
        "/models/dev/secret/accept-licence",
        "/provider/access/dev/secret",
        "/models/dev/secret/versions/1/lifecycle",
    ):
        data = {
            "csrf": token,
            "offer": "off_x",
            "request_id": "ar_x",
            "status": "accepted",
            "stage": "retired",
        }
        assert client.post(path, data=data, follow_redirects=False).status_code == 404, path
