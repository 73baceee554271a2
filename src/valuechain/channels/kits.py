"""Kits (issue 11): a starter project for an API offer, as a deterministic zip.

The kit is a small Python app on the official ``openai`` client with the base URL and model preset, a
``.env.example`` without any secret, a README quickstart and a test that calls the API. Entries are
written in sorted order with a fixed timestamp and mode, so the same offer and base URL give the same
bytes (and sha256).
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from sqlalchemy.orm import Session

from valuechain.accounts.principal import Principal
from valuechain.core.errors import ValidationError
from valuechain.registry.lifecycle import version_lifecycle
from valuechain.registry.service import ROUTED_CHANNELS, get_offer

FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold


@dataclass(frozen=True, slots=True)
class KitSpec:
    """What a kit presets."""

    offer_id: str
    model: str
    base_url: str
    brand: str


@dataclass(frozen=True, slots=True)
class Kit:
    """A built kit: its file name, bytes and sha256."""

    filename: str
    data: bytes
    sha256: str


def kit_spec(session: Session, offer_id: str, *, principal: Principal, base_url: str) -> KitSpec:
    """The preset of a kit for an API offer the caller may see (a hidden offer answers as missing)."""
    offer = get_offer(session, offer_id, principal=principal)
    if offer.channel not in ROUTED_CHANNELS:
        raise ValidationError(f"offer {offer_id} is a {offer.channel} offer; kits are made for API offers")
    if not re.match(r"^https?://[^\s/]+(/\S*)?$", base_url):
        raise ValidationError("base URL must be an absolute http(s) URL, e.g. https://host/v1")
    found = version_lifecycle(session, offer.version_id)
    model = found.model if found is not None else offer.version_id
    if offer.channel == "white_label":  # customers call the reseller's name
        model = str(((offer.terms or {}).get("white_label") or {}).get("model_name") or model)
    return KitSpec(offer_id=offer.id, model=model, base_url=base_url.rstrip("/"), brand=offer.brand)


def build_kit(spec: KitSpec) -> Kit:
    """The kit's zip: same spec, same bytes."""
    slug = re.sub(r"[^a-z0-9]+", "-", spec.model.lower()).strip("-") or "model"
    root = f"{slug}-kit"
    files = {f"{root}/{path}": text for path, text in _files(spec).items()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the mode below means the same everywhere
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name].encode())
    data = buffer.getvalue()
    return Kit(filename=f"{root}.zip", data=data, sha256=hashlib.sha256(data).hexdigest())


def _openai_pin() -> str:
    try:
        return f"openai=={version('openai')}"
    except PackageNotFoundError:  # pragma: no cover - openai is a dependency of the gateway's tests
        return "openai>=1.40"


def _files(spec: KitSpec) -> dict[str, str]:
    model, base_url = spec.model, spec.base_url
    return {
        "app.py": APP.replace("@@MODEL@@", model).replace("@@BASE_URL@@", base_url),
        ".env.example": ENV.replace("@@MODEL@@", model).replace("@@BASE_URL@@", base_url),
        "requirements.txt": f"{_openai_pin()}\npytest>=8\n",
        "README.md": README.replace("@@MODEL@@", model)
        .replace("@@BASE_URL@@", base_url)
        .replace("@@BRAND@@", spec.brand)
        .replace("@@OFFER@@", spec.offer_id),
        "tests/test_app.py": TEST,
    }


APP = '''"""Starter app for @@MODEL@@: one chat completion through the official openai client."""

from __future__ import annotations

import os
import sys

from openai import OpenAI

BASE_URL = os.environ.get("VALUECHAIN_BASE_URL", "@@BASE_URL@@")
MODEL = os.environ.get("VALUECHAIN_MODEL", "@@MODEL@@")


def client() -> OpenAI:
    """A client for the API; the key comes from the environment, never from this file."""
    key = os.environ.get("VALUECHAIN_API_KEY")
    if not key:
        raise SystemExit("set VALUECHAIN_API_KEY (copy .env.example to .env and fill it in)")
    return OpenAI(base_url=BASE_URL, api_key=key)


def ask(prompt: str, *, max_tokens: int = 32) -> str:
    """The model's answer to ``prompt``."""
    response = client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens
    )
    return response.choices[0].message.content or ""


if __name__ == "__main__":
    print(ask(" ".join(sys.argv[1:]) or "Say hello."))
'''

ENV = """# Copy to .env (or export these) and put your API key after the = sign. Never commit the key.
VALUECHAIN_API_KEY=
VALUECHAIN_BASE_URL=@@BASE_URL@@
VALUECHAIN_MODEL=@@MODEL@@
"""

README = """# @@MODEL@@ starter kit

A small Python app that calls `@@MODEL@@` (offered by @@BRAND@@, offer `@@OFFER@@`) through the
official `openai` client, with the base URL and model preset.

## Quickstart

```bash
python -m venv .venv && . .venv/bin/activate
pip install -r requirements.txt
cp .env.example .env          # then put your API key in it
set -a && . ./.env && set +a
python app.py "Write a haiku about supply chains."
```

## Test

```bash
pytest -q                     # calls the API with VALUECHAIN_API_KEY
```

The base URL is `@@BASE_URL@@`; override it, or the model, with `VALUECHAIN_BASE_URL` and
`VALUECHAIN_MODEL`.
"""

TEST = '''"""Calls the API for real: needs VALUECHAIN_API_KEY (and the server at VALUECHAIN_BASE_URL)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import app  # noqa: E402


def test_model_is_listed() -> None:
    if not os.environ.get("VALUECHAIN_API_KEY"):
        pytest.fail("set VALUECHAIN_API_KEY to run the kit's test against the API")
    ids = [m.id for m in app.client().models.list()]
    assert app.MODEL in ids


def test_chat_completion_answers() -> None:
    if not os.environ.get("VALUECHAIN_API_KEY"):
        pytest.fail("set VALUECHAIN_API_KEY to run the kit's test against the API")
    assert app.ask("Say hello.", max_tokens=8).strip()
'''
