"""Generated references (settings, CLI, OpenAPI) are committed and current; every setting is documented."""

from __future__ import annotations

import pytest

from valuechain import docgen
from valuechain.core.settings import Settings


@pytest.mark.parametrize("name", sorted(docgen.REFERENCES))
def test_reference_is_current(name: str) -> None:
    committed = (docgen.DOCS / name).read_text(encoding="utf-8")
    assert committed == docgen.REFERENCES[name](), f"docs/{name} is stale: run `make docs`"


def test_every_setting_is_described() -> None:
    missing = [name for name, field in Settings.model_fields.items() if not field.description]
    assert missing == []
