"""Settings: the URL printed to users follows the port the server is given."""

from __future__ import annotations

import pytest

from valuechain.core.settings import Settings


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def test_public_url_follows_host_and_port_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("VALUECHAIN_HOST", "VALUECHAIN_PORT", "VALUECHAIN_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    assert _settings().resolved_public_url == "http://127.0.0.1:8000"
    assert _settings(port=9123).resolved_public_url == "http://127.0.0.1:9123"
    assert _settings(host="0.0.0.0", port=80).resolved_public_url == "http://127.0.0.1:80"
    assert _settings(host="::1").resolved_public_url == "http://[::1]:8000"
    assert (
        _settings(public_url="https://vc.example.org/", port=9).resolved_public_url
        == "https://vc.example.org"
    )
