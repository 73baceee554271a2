"""Run huggingface_hub's own test suite against a served valuechain hub and count what passes.

    PYTHONPATH=src python -m tests.peer.hf_suite [-k EXPR] [MODULE ...]

Fetches the pinned huggingface_hub source distribution from PyPI (`pip download`) into a cache, copies its `tests/` into a work directory with `hf_conftest.py` as their conftest, points the
endpoint, token and user constants at a freshly served hub (ordinary organisations, admin keys of their own
organisation, never operator keys) and runs the in-scope modules. What is out of scope, and why, is in
`scope.py`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.peer import scope

STAGING = "https://hub-ci.huggingface.co"
USER, FULL_NAME, OTHER_USER = "hf-user", "Dummy User", "hf-other"
HERE = Path(__file__).parent


def cache_dir() -> Path:
    return Path(os.environ.get("VALUECHAIN_PEER_CACHE", Path.home() / ".cache" / "valuechain" / "peer"))


def fetch_tests(cache: Path, *, version: str = scope.HF_HUB_VERSION) -> Path:
    """The extracted `tests/` of huggingface_hub `version`'s sdist, downloaded once into `cache` with pip
    (so the machine's index configuration applies)."""
    root = cache / f"huggingface_hub-{version}"
    if (root / "tests" / "testing_constants.py").is_file():
        return root / "tests"
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / f"huggingface_hub-{version}.tar.gz"
    if not archive.is_file():
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:"]
        command += ["--dest", str(cache), f"huggingface_hub=={version}"]
        subprocess.run(command, check=True, timeout=300)
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(f"{root.name}/tests/")]
        tar.extractall(cache, members=members, filter="data")
    return root / "tests"


def prepare(source: Path, work: Path, *, endpoint: str) -> Path:
    """A copy of the peer tests pointed at `endpoint`; the tokens are read from the environment."""
    tests = work / "tests"
    shutil.copytree(source, tests)
    (tests / "__init__.py").touch()
    shutil.copy(HERE / "hf_conftest.py", tests / "conftest.py")
    for path in tests.glob("*.py"):
        text = path.read_text()
        if STAGING in text:
            path.write_text(text.replace(STAGING, endpoint))
    overrides = (
        "\n# valuechain peer run: the served hub and its organisations (tests/peer/hf_suite.py)\n"
        "import os as _os\n"
        f"ENDPOINT_STAGING = {endpoint!r}\n"
        f"USER = {USER!r}\nFULL_NAME = {FULL_NAME!r}\nOTHER_USER = {OTHER_USER!r}\n"
        'TOKEN = _os.environ["VC_PEER_TOKEN"]\nOTHER_TOKEN = _os.environ["VC_PEER_OTHER_TOKEN"]\n'
    )
    with (tests / "testing_constants.py").open("a") as f:
        f.write(overrides)
    (work / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    return tests


@contextlib.contextmanager
def serve_hub(home: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A `valuechain` process with two ordinary organisations; yields the hub endpoint and their keys."""
    from valuechain.accounts.principal import system_principal
    from valuechain.accounts.roles import Role
    from valuechain.accounts.schemas import KeyCreate, OrgCreate
    from valuechain.accounts.service import create_key, create_org
    from valuechain.core import migrate
    from valuechain.core.db import Database
    from valuechain.core.settings import Settings

    url = f"sqlite:///{(home / 'valuechain.db').resolve()}"  # never a database named by the environment
    db = Database(Settings(home=home, database_url=url).resolved_database_url)
    migrate.upgrade(db)
    keys: dict[str, str] = {}
    with db.unit_of_work() as session:
        for slug, name in ((USER, FULL_NAME), (OTHER_USER, "Other User")):
            create_org(session, OrgCreate(slug=slug, name=name, country="DE"), principal=system_principal())
            _, keys[slug] = create_key(
                session, slug, KeyCreate(name="peer", role=Role.admin), principal=system_principal()
            )
    db.dispose()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("VALUECHAIN_")}
    env |= {"VALUECHAIN_HOME": str(home), "VALUECHAIN_DATABASE_URL": url}
    command = [sys.executable, "-m", "uvicorn", "valuechain.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    log = (home / "server.log").open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(f"http://127.0.0.1:{port}/healthz", process)
        yield f"http://127.0.0.1:{port}/hub", keys
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the valuechain server exited during start-up")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("the valuechain server did not become ready in 60 s")


@dataclasses.dataclass(frozen=True)
class Summary:
    """Outcomes of one peer run; `passed`/`in_scope` is the measure."""

    passed: int
    failed: list[tuple[str, str]]
    skipped: int
    offline: int
    out_of_scope: int
    seconds: float
    broken_modules: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    @property
    def in_scope(self) -> int:
        return self.passed + len(self.failed)

    @property
    def rate(self) -> float:
        """The pass rate; a module that fails to import counts as a failed run (rate 0)."""
        if self.broken_modules or not self.in_scope:
            return 0.0
        return self.passed / self.in_scope


_NOT_RUN = ("out-of-scope", "collection-error")


def summarise(report: dict[str, dict[str, str | bool]], seconds: float) -> Summary:
    hub = {k: v for k, v in report.items() if v["outcome"] not in _NOT_RUN and v.get("hub")}
    return Summary(
        passed=sum(v["outcome"] == "passed" for v in hub.values()),
        failed=sorted((k, str(v.get("message", ""))) for k, v in hub.items() if v["outcome"] == "failed"),
        skipped=sum(v["outcome"] == "skipped" for v in hub.values()),
        offline=sum(v["outcome"] not in _NOT_RUN and not v.get("hub") for v in report.values()),
        out_of_scope=sum(v["outcome"] == "out-of-scope" for v in report.values()),
        seconds=seconds,
        broken_modules=sorted(
            (k, str(v.get("message", ""))) for k, v in report.items() if v["outcome"] == "collection-error"
        ),
    )


def run_suite(
    *,
    modules: tuple[str, ...] = scope.IN_SCOPE_MODULES,
    keyword: str | None = None,
    timeout: float = 1800,
    server_log: Path | None = None,
) -> Summary:
    """Serve a hub, run the peer modules against it and summarise."""
    source = fetch_tests(cache_dir())
    with tempfile.TemporaryDirectory(prefix="vc-peer-") as tmp:
        work, home = Path(tmp) / "work", Path(tmp) / "home"
        home.mkdir()
        (scope_file := Path(tmp) / "scope.json").write_text(
            json.dumps({"out_of_scope": [dataclasses.asdict(e) for e in scope.OUT_OF_SCOPE]})
        )
        with serve_hub(home) as (endpoint, keys):
            tests = prepare(source, work, endpoint=endpoint)
            env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
            env |= {
                "HF_ENDPOINT": endpoint,
                "HF_HOME": str(Path(tmp) / "hf-home"),
                "HF_HUB_DISABLE_XET": "1",
                "HF_HUB_DISABLE_TELEMETRY": "1",
                "VC_PEER_TOKEN": keys[USER],
                "VC_PEER_OTHER_TOKEN": keys[OTHER_USER],
                "VC_PEER_SCOPE": str(scope_file),
                "VC_PEER_REPORT": str(Path(tmp) / "report.json"),
            }
            command = [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-c",
                str(work / "pytest.ini"),
            ]
            command += ["--rootdir", str(work), "-W", "ignore::FutureWarning", "--tb=line", "-rN"]
            command += ["--continue-on-collection-errors"]
            command += [*(["-k", keyword] if keyword else []), *(str(tests / m) for m in modules)]
            started = time.monotonic()
            with (log_path := Path(tmp) / "pytest.log").open("w") as log:
                subprocess.run(
                    command, cwd=work, env=env, timeout=timeout, stdout=log, stderr=log, check=False
                )
            log_tail = log_path.read_text()[-3000:]
            seconds = time.monotonic() - started
        if server_log is not None:
            shutil.copy(home / "server.log", server_log)
        report_path = Path(tmp) / "report.json"
        if not report_path.is_file():
            raise RuntimeError(f"the peer run wrote no report; pytest said:\n{log_tail}")
        report = json.loads(report_path.read_text())
    return summarise(report, seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="peer test modules (default: the in-scope ones)")
    parser.add_argument("-k", dest="keyword", help="pytest -k expression")
    parser.add_argument("--server-log", type=Path, help="copy the server's log here")
    parser.add_argument("--min-rate", type=float, default=0.0, help="exit 1 below this pass rate (0-1)")
    args = parser.parse_args(argv)
    modules = tuple(args.modules) or scope.IN_SCOPE_MODULES
    summary = run_suite(modules=modules, keyword=args.keyword, server_log=args.server_log)
    for node, message in summary.failed:
        print(f"FAILED {node}: {message}")
    for module, message in summary.broken_modules:
        print(f"NOT COLLECTED {module}: {message}")
    print(
        f"huggingface_hub {scope.HF_HUB_VERSION} peer suite: {summary.passed}/{summary.in_scope} in-scope tests"
        f" pass ({summary.rate:.1%}); {summary.skipped} skipped, {summary.offline} never reached the hub,"
        f" {summary.out_of_scope} out of scope; {summary.seconds:.0f} s"
    )
    return 1 if summary.rate < args.min_rate else 0


if __name__ == "__main__":
    sys.exit(main())
