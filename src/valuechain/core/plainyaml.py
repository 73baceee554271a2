"""YAML from outside read as plain data: size-capped and without aliases, so nothing expands (issue 17)."""

from __future__ import annotations

from typing import Any

import yaml

from valuechain.core.errors import ValidationError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_plain_yaml(text: str, *, what: str, max_bytes: int) -> Any:
    """Load YAML of at most ``max_bytes`` that uses no alias (``*name``); else a ``ValidationError``.

    A ~350-byte document of nested aliases expands past gigabytes once anything walks it, so aliases are
    found in the event stream, before any node is built. ``yaml.YAMLError`` passes through for the caller
    to phrase.
    """
    if len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise ValidationError(f"{what} is larger than {max_bytes} bytes")
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            raise ValidationError(f"{what} may not use YAML aliases (*name)")
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - the safe loader
