"""README examples are tested truths: the README shows the files under docs/examples, and each runs
against a served demo and prints what the README says it prints.

Expected output lives next to each example as ``<example>.out``; in it ``…`` stands for any text within a
line (ids, times and secrets differ per run). An example without an ``.out`` file must exit 0.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from valuechain import docgen

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLES = [m["path"] for m in docgen.EXAMPLE.finditer(README)]
RUNNERS = {".py": [sys.executable], ".sh": ["bash", "-eo", "pipefail"]}
NOT_RUN = re.compile(r"<!-- not-run: [^>]{10,} -->\n\Z")  # right before the block, with a reason
CODE_BLOCK = re.compile(r"^```(sh|bash|shell|console|python|py)\n", re.M)


def test_readme_shows_the_example_files() -> None:
    assert len(EXAMPLES) >= 5
    assert docgen.readme_with_examples(README) == README, "README.md examples are stale: run `make docs`"


def test_every_shell_and_python_block_is_an_example() -> None:
    """A code block outside the example markers needs a `<!-- not-run: reason -->` line before it."""
    regions = [m.span() for m in docgen.EXAMPLE.finditer(README)]
    loose = [
        README[m.start() : m.start() + 60]
        for m in CODE_BLOCK.finditer(README)
        if not any(a <= m.start() < b for a, b in regions) and not NOT_RUN.search(README[: m.start()])
    ]
    assert loose == []


def test_every_example_file_is_in_the_readme() -> None:
    folder = ROOT / "docs" / "examples"
    runnable = {str(p.relative_to(ROOT)) for p in folder.iterdir() if p.suffix in RUNNERS}
    assert runnable == set(EXAMPLES)


def matches(expected: str, actual: str) -> bool:
    """Line by line, ``…`` in ``expected`` standing for any text within the line."""
    want, got = expected.rstrip("\n").split("\n"), actual.rstrip("\n").split("\n")
    return len(want) == len(got) and all(
        re.fullmatch(".*?".join(re.escape(part) for part in w.split("…")), g)
        for w, g in zip(want, got, strict=True)
    )


def test_the_ellipsis_pattern() -> None:
    assert matches('{"id": "mdl_…", "n": 1}\n', '{"id": "mdl_0a1b", "n": 1}')
    assert not matches('{"id": "mdl_…", "n": 1}', '{"id": "mdl_0a1b", "n": 2}')
    assert not matches("a\nb", "a")


@dataclass(frozen=True)
class Served:
    url: str
    home: Path
    keys: dict[str, str]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`valuechain init`, `valuechain demo` and `valuechain serve` in a fresh HOME, as the README says."""
    pytest.importorskip("llama_cpp")
    home = tmp_path_factory.mktemp("readme-home")
    port = _free_port()
    env = os.environ | {"VALUECHAIN_HOME": str(home), "VALUECHAIN_PORT": str(port)}
    env.pop("VALUECHAIN_DATABASE_URL", None)
    cli = [sys.executable, "-m", "valuechain"]
    subprocess.run([*cli, "init"], env=env, capture_output=True, check=True)
    demo = subprocess.run([*cli, "demo", "--format", "json"], env=env, capture_output=True, check=True)
    keys = json.loads(demo.stdout)["keys"]
    log = (home / "server.log").open("w")
    process = subprocess.Popen([*cli, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("server did not become ready: " + (home / "server.log").read_text())
        yield Served(url, home, keys)
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.mark.e2e
@pytest.mark.parametrize("path", EXAMPLES)
def test_example_prints_what_the_readme_shows(served: Served, path: str, tmp_path: Path) -> None:
    source = ROOT / path
    shutil.copy(ROOT / "docs" / "examples" / "chain.yaml", tmp_path / "chain.yaml")
    key = served.keys["demo-developer"]
    env = os.environ | {
        "VALUECHAIN_HOME": str(served.home),
        "VALUECHAIN_URL": served.url,
        "VALUECHAIN_API_KEY": key,
        "HF_ENDPOINT": f"{served.url}/hub",
        "HF_TOKEN": key,
        "HF_HOME": str(tmp_path / "hf"),
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("VALUECHAIN_DATABASE_URL", None)
    run = subprocess.run(
        [*RUNNERS[source.suffix], str(source)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    expected = source.with_name(source.name + ".out")
    if expected.is_file():
        shown = expected.read_text(encoding="utf-8")
        assert matches(shown, run.stdout), f"{path} printed:\n{run.stdout}\nthe README shows:\n{shown}"
