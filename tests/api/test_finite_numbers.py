"""Unknown numbers (NaN, infinities, overflowing literals such as 1e999) are a 422 wherever /api/v1 takes a
number, in JSON bodies and in chain manifests, instead of being stored (issue 17, part 4)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth, make_key, make_org
from valuechain.core.db import Database

# As a client would write them in raw JSON (Python's json and Starlette read all four), and as strings.
JSON_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", '"inf"', '"nan"']
YAML_NUMBERS = [".inf", ".nan", "-.inf", "1e999", "1.0e+999"]


@pytest.fixture
def world(client: TestClient, db: Database) -> dict[str, Any]:
    """Alpha (an operator's organisation) with a released model, a version and an API offer."""
    make_org(db, "alpha")
    h = auth(make_key(db, "alpha", "owner", operator=True))
    assert client.post("/api/v1/models", json={"name": "m"}, headers=h).status_code == 201
    assert client.post("/api/v1/models", json={"name": "child"}, headers=h).status_code == 201
    for model in ("m", "child"):
        r = client.post(f"/api/v1/models/alpha/{model}/versions", json={"label": "1"}, headers=h)
        assert r.status_code == 201
    offer = client.post("/api/v1/offers", json={"model": "alpha/m", "channel": "api"}, headers=h).json()
    return {"h": h, "offer": offer["id"]}


def _send(client: TestClient, method: str, path: str, body: str, h: dict[str, str]) -> Any:
    return client.request(method, path, content=body, headers=h | {"content-type": "application/json"})


def _bodies(world: dict[str, Any], number: str) -> list[tuple[str, str, str]]:
    plan = f'{{"access": "open", "plan": {{"input_per_mtok": {number}, "output_per_mtok": 1}}}}'
    derivation = (
        f'{{"parent": "alpha/m", "child": "alpha/child", "relation": "finetune", "compute_flop": {number}}}'
    )
    return [
        ("POST", "/api/v1/models", f'{{"name": "n", "training_compute_flop": {number}}}'),
        ("POST", "/api/v1/models", f'{{"name": "n", "parameters": {number}}}'),
        ("PATCH", "/api/v1/models/alpha/m", f'{{"training_tokens": {number}}}'),
        ("POST", "/api/v1/derivations", derivation),
        ("PUT", f"/api/v1/offers/{world['offer']}/api-terms", plan),
    ]


@pytest.mark.parametrize("number", JSON_NUMBERS)
def test_json_bodies_refuse_unknown_numbers(client: TestClient, world: dict[str, Any], number: str) -> None:
    for method, path, body in _bodies(world, number):
        response = _send(client, method, path, body, world["h"])
        assert response.status_code == 422, (method, path, number, response.text)
        assert response.json()["error"]["code"] == "validation_error"
    models = client.get("/api/v1/models", headers=world["h"]).json()
    assert {m["id"] for m in models} == {"alpha/m", "alpha/child"}
    assert all(m["training_compute_flop"] is None and m["parameters"] is None for m in models)


@pytest.mark.parametrize("number", ["1e999", "inf", "-inf", "nan"])
def test_what_if_refuses_unknown_numbers(client: TestClient, world: dict[str, Any], number: str) -> None:
    body = {"changes": [f"models[alpha/m].training_compute_flop={number}"]}
    response = client.post("/api/v1/obligations/whatif", json=body, headers=world["h"])
    assert response.status_code == 422, response.text


def _manifest(number: str) -> bytes:
    return (
        "valuechain: 1\n"
        "actors:\n  - {id: gamma, name: Gamma, country: IT}\n"
        f"models:\n  - {{id: gamma/big, training_compute_flop: {number}}}\n"
    ).encode()


@pytest.mark.parametrize("number", YAML_NUMBERS)
def test_manifests_refuse_unknown_numbers(client: TestClient, world: dict[str, Any], number: str) -> None:
    yaml = world["h"] | {"content-type": "application/yaml"}
    check = client.post("/api/v1/chain/check", content=_manifest(number), headers=yaml)
    assert check.status_code == 200 and check.json()["valid"] is False, check.text
    [problem] = check.json()["problems"]
    assert problem["line"] == 5 and "finite" in problem["message"], problem
    imported = client.post("/api/v1/chain/import", content=_manifest(number), headers=yaml)
    assert imported.status_code == 422, imported.text
    assert client.get("/api/v1/models/gamma/big", headers=world["h"]).status_code == 404


def test_large_finite_numbers_are_still_numbers(client: TestClient, world: dict[str, Any]) -> None:
    response = _send(
        client, "POST", "/api/v1/models", '{"name": "n", "training_compute_flop": 1e300}', world["h"]
    )
    assert response.status_code == 201 and response.json()["training_compute_flop"] == 1e300
