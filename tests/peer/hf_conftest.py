"""conftest.py for huggingface_hub's own tests, run against a served valuechain hub (copied in by hf_suite).

The source distribution ships its tests without their conftest; this one provides the fixtures they ask
for (`api`, `repo_factory`), applies the exclusions of `tests/peer/scope.py` (passed in as JSON) and
records, per test, its outcome and whether it reached the hub.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from huggingface_hub import HfApi, RepoUrl

from .testing_constants import ENDPOINT_STAGING, TOKEN, USER
from .testing_utils import repo_name

RepoFactory = Callable[..., RepoUrl]

_SCOPE = json.loads(Path(os.environ["VC_PEER_SCOPE"]).read_text())
_REPORT_PATH = Path(os.environ["VC_PEER_REPORT"])
_results: dict[str, dict[str, Any]] = {}
_touched = {"hub": False}


def _watch(send: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(self: Any, request: httpx.Request, *args: Any, **kwargs: Any) -> Any:
        if str(request.url).startswith(ENDPOINT_STAGING):
            _touched["hub"] = True
        return send(self, request, *args, **kwargs)

    return wrapped


httpx.Client.send = _watch(httpx.Client.send)  # type: ignore[method-assign]
httpx.AsyncClient.send = _watch(httpx.AsyncClient.send)  # type: ignore[method-assign]


def pytest_configure(config: pytest.Config) -> None:
    for marker in (
        "api",
        "transfer",
        "inference",
        "xet",
        "no_xet",
        "production",
        "deprecated",
        "git_lfs",
        "vcr",
    ):
        config.addinivalue_line("markers", f"{marker}: huggingface_hub suite marker")


def _exclusion(item: pytest.Item) -> str | None:
    for rule in _SCOPE["out_of_scope"]:
        if rule["marker"] and item.get_closest_marker(rule["marker"]) is not None:
            return str(rule["reason"])
        if rule["pattern"] and re.search(rule["pattern"], item.nodeid, flags=re.IGNORECASE):
            return str(rule["reason"])
    return None


@pytest.hookimpl(trylast=True)  # after -k, so only the selected tests are counted
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept, dropped = [], []
    for item in items:
        reason = _exclusion(item)
        if reason is None:
            kept.append(item)
        else:
            dropped.append(item)
            _results[item.nodeid] = {"outcome": "out-of-scope", "reason": reason}
    items[:] = kept
    config.hook.pytest_deselected(items=dropped)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _results[report.nodeid] = {"outcome": "collection-error", "message": _first_line(report)}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if call.when == "setup":
        _touched["hub"] = False
    entry = _results.setdefault(item.nodeid, {"outcome": "passed", "hub": False, "message": ""})
    uses_hub = {"api", "repo_factory", "new_repo_id"} & set(getattr(item, "fixturenames", ()))
    entry["hub"] = bool(entry["hub"] or _touched["hub"] or uses_hub)
    if report.skipped and entry["outcome"] == "passed":
        entry["outcome"] = "skipped"
    elif report.failed:
        entry["outcome"] = "failed"
        entry["message"] = entry["message"] or _first_line(report)


def _first_line(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The error in one line (the client puts the server's message on later lines)."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = str(crash.message if crash is not None else report.longrepr or "")
    return " | ".join(line.strip() for line in text.splitlines() if line.strip())[:400]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _REPORT_PATH.write_text(json.dumps(_results, indent=1, sort_keys=True))


@pytest.fixture(scope="session")  # class-scoped fixtures of the suite ask for it
def api() -> HfApi:
    return HfApi(endpoint=ENDPOINT_STAGING, token=TOKEN)


@pytest.fixture
def api_prod() -> HfApi:
    pytest.skip("huggingface.co-only")


@pytest.fixture
def repo_factory(api: HfApi) -> Iterator[RepoFactory]:
    """Create repos in USER's namespace (or the one named) and delete them after the test."""
    created: list[tuple[RepoUrl, str | None]] = []

    def factory(repo_type: str = "model", repo_id: str | None = None, **kwargs: Any) -> RepoUrl:
        name = repo_id or repo_name()
        if "/" not in name:  # the token's own namespace, as the Hub does
            namespace = api.whoami(token=kwargs["token"])["name"] if "token" in kwargs else USER
            name = f"{namespace}/{name}"
        url = api.create_repo(name, repo_type=repo_type, **kwargs)
        created.append((url, kwargs.get("token")))
        return url

    yield factory
    for url, token in created:
        with contextlib.suppress(Exception):  # a test may have moved it; never fail a test on clean-up
            api.delete_repo(url.repo_id, repo_type=url.repo_type, missing_ok=True, token=token)


@pytest.fixture
def new_repo_id(api: HfApi) -> Iterator[str]:
    """A repo id in USER's namespace that the test creates (e.g. with push_to_hub); deleted afterwards."""
    repo_id = f"{USER}/{repo_name()}"
    yield repo_id
    with contextlib.suppress(Exception):  # never fail a test on clean-up
        api.delete_repo(repo_id, missing_ok=True)
