"""/v1/files and /v1/fine_tuning/jobs × keys × roles × tenants (the matrix of tests/api/test_authz_matrix.py,
which also fails when a route here has no case): no key or a wrong one 401, a key without ``inference`` 403,
a viewer may read but not write, another organisation's file or job answers exactly as a missing one."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth, make_key
from tests.finetune.conftest import BASE, DATA, seed
from valuechain.accounts.roles import ROLE_SCOPES, Role, Scope
from valuechain.app import create_app
from valuechain.core.db import Database
from valuechain.core.settings import Settings


@dataclass(frozen=True)
class FtCase:
    method: str
    path: str
    owner: int = 200
    viewer: int = 200
    outsider: int = 404  # a record of another organisation: as if missing
    body: str | None = None  # "job" (create body) or "file" (multipart upload)


FT_CASES = [
    FtCase("POST", "/v1/files", viewer=403, outsider=200, body="file"),
    FtCase("GET", "/v1/files", outsider=200),
    FtCase("GET", "/v1/files/{file_id}"),
    FtCase("GET", "/v1/files/{file_id}/content"),
    FtCase("DELETE", "/v1/files/{file_id}", viewer=403),
    FtCase("POST", "/v1/fine_tuning/jobs", viewer=403, body="job"),
    FtCase("GET", "/v1/fine_tuning/jobs", outsider=200),
    FtCase("GET", "/v1/fine_tuning/jobs/{job_id}"),
    FtCase("POST", "/v1/fine_tuning/jobs/{job_id}/cancel", viewer=403),
    FtCase("GET", "/v1/fine_tuning/jobs/{job_id}/events"),
    FtCase("GET", "/v1/fine_tuning/jobs/{job_id}/checkpoints"),
]


def _send(http: TestClient, case: FtCase, key: str | None, ids: dict[str, str]) -> httpx.Response:
    path = case.path.format(**ids)
    headers = auth(key) if key else {}
    if case.body == "file":
        return http.post(
            path,
            files={"file": ("t.jsonl", DATA.read_bytes())},
            data={"purpose": "fine-tune"},
            headers=headers,
        )
    if case.body == "job":
        return http.post(path, json={"model": BASE, "training_file": ids["file_id"]}, headers=headers)
    return http.request(case.method, path, headers=headers)


@pytest.mark.parametrize("case", FT_CASES, ids=lambda c: f"{c.method} {c.path}")
def test_finetune_route_key_role_tenant(db: Database, settings: Settings, case: FtCase) -> None:
    seeded = seed(db)
    keys = {
        "owner": seeded.customer_key,
        "viewer": make_key(db, "devco", "viewer"),
        "outsider": seeded.outsider_key,
        "no_inference": make_key(db, "devco", "owner", scopes=[s.value for s in ROLE_SCOPES[Role.owner] - {Scope.inference}]),
        "wrong_key": "vc_" + "0" * 40,
        "anonymous": None,
    }  # fmt: skip
    with TestClient(create_app(settings, database=db)) as http:
        owner = auth(seeded.customer_key)
        file_id = http.post(
            "/v1/files",
            files={"file": ("t.jsonl", DATA.read_bytes())},
            data={"purpose": "fine-tune"},
            headers=owner,
        ).json()["id"]
        job = http.post("/v1/fine_tuning/jobs", json={"model": BASE, "training_file": file_id}, headers=owner)
        ids = {"file_id": file_id, "job_id": job.json()["id"]}
        expected = {"anonymous": 401, "wrong_key": 401, "no_inference": 403, "outsider": case.outsider,
                    "viewer": case.viewer, "owner": case.owner}  # fmt: skip
        for who, status in expected.items():
            response = _send(http, case, keys[who], ids)
            assert response.status_code == status, (who, response.text)
            if status >= 400:
                assert set(response.json()["error"]) >= {"message", "type", "code"}
        if case.outsider == 404 and "{" in case.path:  # hidden answers exactly as missing
            missing = {k: v[:-4] + "zzzz" for k, v in ids.items()}
            hidden = _send(http, case, seeded.outsider_key, ids).json()["error"]
            ghost = _send(http, case, seeded.outsider_key, missing).json()["error"]
            for key, value in ids.items():
                hidden["message"] = hidden["message"].replace(value, "<id>")
                ghost["message"] = ghost["message"].replace(missing[key], "<id>")
            assert hidden == ghost
