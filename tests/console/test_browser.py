"""The console in a real browser: Debian's chromium driven by Playwright against a served `valuechain`
(demo seeded), as an anonymous visitor, an outsider, the provider and the developer, last through the
commercial channels of issue 11 (sell, buy, resell, deprecate). No request may leave 127.0.0.1 and no page
may log an error (a CSP violation is one).

``CI=true`` turns a missing browser into a failure instead of a skip. ``CONSOLE_SCREENSHOTS=DIR`` saves the
main pages as PNG (how docs/console/*.png are made).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.test_docs_browser import _free_port

pytestmark = pytest.mark.e2e
CHROMIUM = Path("/usr/bin/chromium")
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
BUNDLED = "demo-provider/smollm2-135m-instruct"
PRIVATE = "demo-developer/smollm2-135m-support"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _need_browser() -> None:
    missing = None
    if not CHROMIUM.is_file():
        missing = "Debian's chromium at /usr/bin/chromium (apt-get install -y chromium; .ci/run does)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "the playwright package (the test extra)"
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests need {missing}")
        pytest.skip(f"needs {missing}")


served_env: dict[str, str] = {}  # the served process's environment, for CLI calls against its database


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    _need_browser()
    home = tmp_path_factory.mktemp("console-home")
    port = _free_port()
    env = os.environ | {
        "VALUECHAIN_HOME": str(home),
        "VALUECHAIN_PORT": str(port),
        "VALUECHAIN_LOG_LEVEL": "warning",
        "VALUECHAIN_FINETUNE_WORKER": "false",  # a job queued here is cancelled, never trained
    }
    env.pop("VALUECHAIN_DATABASE_URL", None)
    cli = [sys.executable, "-m", "valuechain"]
    demo = subprocess.run(
        [*cli, "demo", "--format", "json"], env=env, capture_output=True, text=True, check=True
    )
    users = json.loads(demo.stdout)["users"]
    log = (home / "server.log").open("w")
    process = subprocess.Popen([*cli, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("server did not start: " + (home / "server.log").read_text())
        served_env.update(env)
        yield url, users
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


class Browser:
    """One chromium; each role gets its own context (cookies); outside requests are recorded and aborted."""

    def __init__(self, base: str) -> None:
        from playwright.sync_api import sync_playwright

        self.base = base
        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.shots = os.environ.get("CONSOLE_SCREENSHOTS")

    def page(self):  # type: ignore[no-untyped-def]
        context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        context.route("**/*", self._guard)
        page = context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(f"{page.url}: {msg.text}"))
        return page

    def _guard(self, route) -> None:  # type: ignore[no-untyped-def]
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOOPBACK:
            self.outside.append(url)
            route.abort()
        else:
            route.continue_()

    def shot(self, page, name: str) -> None:  # type: ignore[no-untyped-def]
        if self.shots:
            Path(self.shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(self.shots) / f"{name}.png"), full_page=False)

    def expect_404(self, page, path: str) -> None:  # type: ignore[no-untyped-def]
        """The page answers 404; the browser's own "failed to load" line for it is not a page error."""
        assert page.goto(self.base + path).status == 404
        self.errors = [e for e in self.errors if "status of 404" not in e]

    def close(self) -> None:
        self.browser.close()
        self._pw.stop()


@pytest.fixture(scope="module")
def browser(served: tuple[str, dict[str, str]]) -> Iterator[Browser]:
    b = Browser(served[0])
    yield b
    b.close()


def sign_in(browser: Browser, email: str, password: str):  # type: ignore[no-untyped-def]
    page = browser.page()
    page.goto(browser.base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(browser.base + "/")
    return page


def test_anonymous_visitor(browser: Browser) -> None:
    page = browser.page()
    page.goto(browser.base + "/")
    assert page.locator(f"a.model-link[href='/models/{BUNDLED}']").count() == 1
    assert page.locator(f"a[href='/models/{PRIVATE}']").count() == 0
    browser.shot(page, "catalogue")
    page.click(f"a.model-link[href='/models/{BUNDLED}']")
    page.wait_for_selector("#model-title")
    assert page.locator("#model-tree").is_visible()
    browser.expect_404(page, f"/models/{PRIVATE}")
    assert browser.outside == [] and browser.errors == []


def test_outsider_requests_access_and_never_sees_the_private_model(
    browser: Browser, served: tuple[str, dict[str, str]]
) -> None:
    page = sign_in(browser, "demo-outsider@example.com", served[1]["demo-outsider@example.com"])
    browser.expect_404(page, f"/models/{PRIVATE}")
    page.goto(browser.base + f"/models/{BUNDLED}")
    page.locator("button[id^=request-access-]").click()
    page.wait_for_selector(".status-pending")
    page.goto(browser.base + "/org")
    assert "pending" in page.locator("#entitlements").inner_text()
    # the gated repo: accept the licence (auto-gated: granted at once), then download through the console
    page.goto(browser.base + f"/models/{BUNDLED}")
    page.click("#accept-licence")
    page.wait_for_selector("#download-state")
    assert "may download" in page.locator("#download-state").inner_text()
    readme = page.request.get(browser.base + f"/models/{BUNDLED}/resolve/README.md")
    assert readme.status == 200 and b"SmolLM2" in readme.body()
    assert browser.outside == [] and browser.errors == []


def test_provider_approves_and_clicks_through(browser: Browser, served: tuple[str, dict[str, str]]) -> None:
    page = sign_in(browser, "demo-provider@example.com", served[1]["demo-provider@example.com"])
    page.goto(browser.base + "/provider")
    row = page.locator("#api-requests tr[data-org='demo-outsider']")
    row.locator("button.approve").click()
    page.wait_for_url(browser.base + "/provider#approvals")
    page.goto(browser.base + "/provider?status=approved")
    assert "approved" in page.locator("#api-requests tr[data-org='demo-outsider']").inner_text()
    # the gated-repo queue: the outsider's access (granted automatically) is withdrawn by the provider
    page.goto(browser.base + "/provider?status=all")
    page.locator("#repo-requests tr[data-org='demo-outsider'] button.reject").click()
    page.wait_for_url(browser.base + "/provider#approvals")
    page.goto(browser.base + "/provider?status=rejected")
    assert "rejected" in page.locator("#repo-requests tr[data-org='demo-outsider']").inner_text()
    browser.shot(page, "provider")
    page.goto(browser.base + f"/models/{BUNDLED}")
    page.wait_for_selector("#obligations table", timeout=30_000)  # loaded by htmx after the page
    browser.shot(page, "model")
    for path in (
        "/org",
        "/compliance",
        "/compliance/whatif",
        f"/compliance/neutrality?model={BUNDLED}",
        "/audit",
    ):
        assert page.goto(browser.base + path).status == 200, path  # type: ignore[union-attr]
        if path == "/compliance":
            browser.shot(page, "compliance")
    assert browser.outside == [] and browser.errors == []


def test_developer_keys_and_playground(browser: Browser, served: tuple[str, dict[str, str]]) -> None:
    page = sign_in(browser, "demo-developer@example.com", served[1]["demo-developer@example.com"])
    page.goto(browser.base + "/org")
    page.fill("#create-key input[name=name]", "browser-test")
    page.click("#create-key button[type=submit]")
    secret = page.locator("#new-secret").inner_text()
    assert secret.startswith("vc_")
    page.goto(browser.base + "/org")
    assert secret not in page.content()
    row = page.locator("#keys-table tr", has_text="browser-test")
    row.locator("button.revoke").click()
    page.wait_for_url(browser.base + "/org#keys")
    assert "revoked" in page.locator("#keys-table tr", has_text="browser-test").inner_text()
    browser.shot(page, "organisation")
    page.goto(browser.base + "/playground")
    page.select_option("#chat-model", BUNDLED)
    page.fill("#chat-max-tokens", "8")
    page.fill("#chat-message", "Say hello.")
    page.click("#chat-send")
    page.wait_for_selector("#chat-answer[data-done=true]", timeout=120_000)
    assert page.locator("#chat-answer").inner_text().strip()
    browser.shot(page, "playground")
    page.goto(browser.base + "/org?group=key")
    assert "console playground" in page.locator("#usage").inner_text()  # metered like any /v1 call
    for path in ("/provider", "/compliance", "/audit", f"/models/{PRIVATE}"):
        assert page.goto(browser.base + path).status == 200, path  # type: ignore[union-attr]
    assert browser.outside == [] and browser.errors == []


def test_developer_follows_and_cancels_a_fine_tuning_job(
    browser: Browser, served: tuple[str, dict[str, str]]
) -> None:
    data = Path(__file__).resolve().parents[1] / "finetune" / "zorbia.jsonl"
    created = subprocess.run(
        [sys.executable, "-m", "valuechain", "finetune", "create", str(data), "--model", BUNDLED,
         "--suffix", "browser", "--as", "demo-developer", "--format", "json"],
        env=served_env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    job_id = json.loads(created.stdout)["id"]
    page = sign_in(browser, "demo-developer@example.com", served[1]["demo-developer@example.com"])
    page.click("nav >> text=Fine-tuning")
    page.click(f"#jobs a[href='/fine-tuning/{job_id}']")
    assert page.locator("#status").inner_text() == "queued"
    assert page.locator("#loss svg").count() == 1
    browser.shot(page, "fine-tuning-job")
    page.click("#cancel button")
    page.wait_for_url(browser.base + f"/fine-tuning/{job_id}")
    assert page.locator("#status").inner_text() == "cancelled"
    assert "Job cancelled before it started" in page.locator("#events").inner_text()
    assert browser.outside == [] and browser.errors == []


def test_outsider_sees_the_rejection(browser: Browser, served: tuple[str, dict[str, str]]) -> None:
    page = sign_in(browser, "demo-outsider@example.com", served[1]["demo-outsider@example.com"])
    page.goto(browser.base + f"/models/{BUNDLED}")
    assert "rejected" in page.locator("#download-state").inner_text()
    assert page.request.get(browser.base + f"/models/{BUNDLED}/resolve/README.md").status == 403
    page.goto(browser.base + "/playground")  # entitled since the provider approved: the model is offered
    assert page.locator("#chat-model option", has_text=BUNDLED).count() == 1
    assert browser.outside == [] and browser.errors == []


def _cli(*args: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-m", "valuechain", *args, "--format", "json"],
                          env=served_env, capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_sell_buy_resell_and_deprecate(browser: Browser, served: tuple[str, dict[str, str]]) -> None:
    """Issue 11 end to end (last here: it deprecates the bundled version): the provider lists a hire, the
    developer buys it, the provider grants it a reseller agreement, the developer resells the model under its
    brand and issues its customer a key, the provider deprecates the version; the ledger balances."""
    users = served[1]
    provider = sign_in(browser, "demo-provider@example.com", users["demo-provider@example.com"])

    # the provider lists its API offer as a one-hour hire
    provider.click("nav >> text=Selling")
    option = provider.locator("#create-listing select[name=offer] option", has_text=" · api · ").first
    provider.select_option("#create-listing select[name=offer]", option.get_attribute("value"))
    provider.select_option("#create-listing select[name=kind]", "hire")
    provider.fill("#create-listing input[name=title]", "Browser hire")
    provider.fill("#create-listing input[name=price]", "1.50")
    provider.fill("#create-listing input[name=period]", "1")
    provider.select_option("#create-listing select[name=unit]", "hours")
    provider.fill("#create-listing input[name=licence]", "apache-2.0")
    with provider.expect_navigation():
        provider.click("#create-listing button[type=submit]")
    row = provider.locator("#listings tr", has_text="Browser hire")
    listing = row.get_attribute("data-listing")
    assert listing and "active" in row.inner_text()
    browser.shot(provider, "selling")

    # the developer, given credits by the operator, buys it
    _cli("credits", "grant", "demo-developer", "10", "--key", "browser-channels")
    developer = sign_in(browser, "demo-developer@example.com", users["demo-developer@example.com"])
    developer.click("nav >> text=Market")
    with developer.expect_navigation():
        developer.click(f"tr[data-listing='{listing}'] button.buy")
    assert "demo-provider" in developer.locator("#licences").inner_text()
    assert "-1.50 EUR" in (developer.locator("#wallet").text_content() or "")  # folded: not rendered

    # the provider grants the developer a reseller agreement for the bundled model
    provider.click("nav >> text=White label")
    provider.click("#grant-reseller summary")
    provider.fill("#grant-form input[name=reseller]", "demo-developer")
    provider.select_option("#grant-form select[name=model]", BUNDLED)
    provider.fill("#grant-form input[name=wholesale_input]", "1")
    provider.fill("#grant-form input[name=wholesale_output]", "2")
    with provider.expect_navigation():
        provider.click("#grant-form button[type=submit]")
    assert "demo-developer" in provider.locator("#granted-table").inner_text()

    # the developer resells it under its brand and issues its customer a key, shown once
    developer.click("nav >> text=White label")
    developer.fill("#create-white-label input[name=model_name]", "helpdesk-chat")
    developer.fill("#create-white-label input[name=brand]", "Helpdesk AI")
    with developer.expect_navigation():
        developer.click("#create-white-label button[type=submit]")
    offer_row = developer.locator("#white-label-table tr[data-offer]", has_text="helpdesk-chat")
    assert "1.20 EUR" in offer_row.inner_text()
    browser.shot(developer, "white-label")
    white_label = offer_row.get_attribute("data-offer") or ""
    form = f"#add-customer-{white_label}"
    developer.fill(f"{form} input[name=customer]", "demo-outsider")
    with developer.expect_navigation():  # demo-outsider never asked: its wallet is not the reseller's
        developer.click(f"{form} button[type=submit]")
    assert f"valuechain access request {white_label} --as demo-outsider" in developer.content()
    browser.errors = [e for e in browser.errors if "status of 409" not in e]  # the browser's own line
    _cli("access", "request", white_label, "--as", "demo-outsider")  # the customer asks
    developer.click("nav >> text=White label")
    developer.fill(f"{form} input[name=customer]", "demo-outsider")
    with developer.expect_navigation():
        developer.click(f"{form} button[type=submit]")
    assert developer.locator("#new-secret").inner_text().startswith("vc_")

    # the provider deprecates the version from the model page
    provider.goto(browser.base + f"/models/{BUNDLED}")
    provider.select_option("#lifecycle-1 select[name=stage]", "deprecated")
    provider.fill("#lifecycle-1 input[name=sunset]", (date.today() + timedelta(days=60)).isoformat())
    with provider.expect_navigation():
        provider.click("#lifecycle-1 button[type=submit]")
    assert "deprecated" in provider.locator("#versions tr[data-version='1']").inner_text()

    assert _cli("usage", "ledger-check")["ok"] is True
    assert browser.outside == [] and browser.errors == []
