"""/docs and /redoc render in a real browser with the network cut: every asset comes from this server.

Drives Debian's chromium (``/usr/bin/chromium``; CI installs it, a browser is never downloaded).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

pytestmark = pytest.mark.e2e
CHROMIUM = Path("/usr/bin/chromium")
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.is_file():
        pytest.skip(
            "needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium; .ci/run does)"
        )
    pytest.importorskip("playwright.sync_api", reason="needs the playwright package (the test extra)")
    home = tmp_path_factory.mktemp("docs-home")
    port = _free_port()
    env = os.environ | {"VALUECHAIN_HOME": str(home), "VALUECHAIN_PORT": str(port)}
    env.pop("VALUECHAIN_DATABASE_URL", None)
    log = (home / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "valuechain", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("server did not start: " + (home / "server.log").read_text())
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


class Offline:
    """A chromium page on which every request to a host other than loopback is recorded and aborted."""

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        context = self.browser.new_context()
        self.outside: list[str] = []
        self.errors: list[str] = []
        context.route("**/*", self._guard)
        self.page = context.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))

    def _guard(self, route) -> None:  # type: ignore[no-untyped-def]
        url = route.request.url
        if urlsplit(url).scheme in ("http", "https", "ws", "wss") and urlsplit(url).hostname not in LOOPBACK:
            self.outside.append(url)
            route.abort()
        else:
            route.continue_()

    def close(self) -> None:
        self.browser.close()
        self._pw.stop()


@pytest.fixture
def offline() -> Iterator[Offline]:
    browser = Offline()
    yield browser
    browser.close()


@pytest.mark.parametrize(("path", "least"), [("/docs", 40), ("/hub/docs", 20)])
def test_swagger_ui_renders_offline_with_authorize(
    base_url: str, offline: Offline, path: str, least: int
) -> None:
    page = offline.page
    page.goto(base_url + path)
    page.wait_for_selector(".opblock", timeout=30_000)
    assert page.locator(".opblock").count() >= least  # operations rendered, not an empty shell
    authorize = page.locator("button.authorize")
    assert authorize.is_visible()
    authorize.click()
    page.wait_for_selector(".auth-container", timeout=10_000)
    assert "bearer" in page.locator(".auth-container").first.inner_text()
    assert offline.outside == [], "the page tried to reach the network"
    assert offline.errors == []


@pytest.mark.parametrize("path", ["/redoc", "/hub/redoc"])
def test_redoc_renders_offline(base_url: str, offline: Offline, path: str) -> None:
    page = offline.page
    page.goto(base_url + path)
    page.wait_for_selector("[data-section-id*='operation/']", timeout=30_000)
    assert page.locator("[data-section-id*='operation/']").count() >= 10
    assert page.get_by_text("bearer", exact=False).count() >= 1  # the security scheme is described
    assert offline.outside == [], "the page tried to reach the network"
    assert offline.errors == []


def test_docs_link_to_the_hub_reference(base_url: str, offline: Offline) -> None:
    page = offline.page
    page.goto(base_url + "/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    href = page.get_by_role("link", name="hub API").get_attribute("href")
    assert urljoin(page.url, href) == base_url + "/hub/docs"
    page.goto(urljoin(page.url, href))
    page.wait_for_selector(".opblock", timeout=30_000)
    assert "valuechain hub" in page.locator(".info .title").inner_text()
    assert offline.outside == []
