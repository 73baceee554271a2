"""``valuechain demo``: seed the demo value chain and print what to open and call."""

from __future__ import annotations

import typer

from valuechain.cli.context import Format, FormatOption, database, emit, err, out
from valuechain.cli.render import say
from valuechain.core.settings import Settings
from valuechain.demo import BUNDLED_MODEL, DEVELOPER, DemoResult, seed_demo


def is_serving(url: str) -> bool:
    """Whether a valuechain server answers at ``url`` right now."""
    import httpx

    try:
        return httpx.get(f"{url}/readyz", timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


def demo(
    port: int = typer.Option(
        None, help="The port `valuechain serve` uses (default VALUECHAIN_PORT or 8000)."
    ),
    rotate_keys: bool = typer.Option(
        False, "--rotate-keys", help="Revoke the existing demo keys and issue new ones."
    ),
    fmt: Format = FormatOption,
) -> None:
    """Seed the demo chain (idempotent; existing demo keys stay valid) and print how to call it."""
    settings = Settings(port=port) if port else Settings()
    with database(settings) as db:
        result = seed_demo(db, settings, rotate_keys=rotate_keys)
    url = settings.resolved_public_url
    serving = is_serving(url)
    data = {"keys": result.keys, "kept": result.kept, "rotated": result.rotated, "import": result.report,
            "url": url, "serving": serving, "users": result.users,
            "kept_users": result.kept_users}  # fmt: skip
    emit(data, fmt, lambda _: _human(result, url, serving=serving, port=port))


def _human(result: DemoResult, url: str, *, serving: bool, port: int | None) -> None:
    secret = result.keys.get(DEVELOPER)
    # A kept key cannot be shown again: the examples then read it from where the user saved it.
    key = secret or "$VALUECHAIN_API_KEY"
    py_key = repr(secret) if secret else 'os.environ["VALUECHAIN_API_KEY"]'
    if serving:
        say(out, f"valuechain demo ready at {url}")
    else:
        serve = "valuechain serve" + (f" --port {port}" if port else "")
        say(out, f"valuechain demo seeded; start the server with `{serve}`, then open {url}")
    lines = [
        f"  Web console:    {url}/  (sign in at {url}/login)",
        f"  Model page:     {url}/models/{BUNDLED_MODEL}",
        f"  API docs:       {url}/docs",
        f'  REST:           curl -H "Authorization: Bearer {key}" {url}/api/v1/models',
        f'  OpenAI client:  OpenAI(base_url="{url}/v1", api_key={py_key})',
        f"                  model={BUNDLED_MODEL!r}",
        f"  Hugging Face:   HF_ENDPOINT={url}/hub HF_TOKEN={key} hf download {BUNDLED_MODEL}",
        f'  Obligations:    curl -H "Authorization: Bearer {key}" {url}/api/v1/obligations',
        f"  CLI as client:  valuechain login --url {url}",
    ]
    for line in lines:
        say(out, line)
    _keys(result)
    _users(result)


def _users(result: DemoResult) -> None:
    for email, password in result.users.items():
        say(out, f"  console user:   {email}  password: {password}")
    if result.kept_users:
        kept = ", ".join(result.kept_users)
        say(err, f"console users kept (passwords are stored only as hashes): {kept};")
        say(
            err,
            "`valuechain demo --rotate-keys` sets new passwords, or `valuechain user create EMAIL --org ORG",
        )
        say(err, "--password-stdin` sets one.")


def _keys(result: DemoResult) -> None:
    for slug, secret in result.keys.items():
        say(out, f"  key ({slug}{', rotated' if slug in result.rotated else ''}): {secret}")
    if result.kept:
        kept = ", ".join(f"{slug} {prefix}" for slug, prefix in result.kept.items())
        say(err, f"demo already seeded; existing keys kept (prefix: {kept}).")
        say(err, "Secrets are stored only as hashes, so they cannot be shown again: use your saved key")
        say(err, "(e.g. in VALUECHAIN_API_KEY), `valuechain key create --org ORG` for a new one, or")
        say(err, "`valuechain demo --rotate-keys` to revoke and replace the demo keys.")
    if result.rotated:
        say(err, f"revoked the previous demo keys of: {', '.join(result.rotated)}")


def register(app: typer.Typer) -> None:
    app.command()(demo)
