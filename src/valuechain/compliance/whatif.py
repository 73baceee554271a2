"""What-if: re-evaluate with changed facts, without touching the registry, and show the obligation diff.

Change syntax (one per ``--set``)::

    models[openlab/ol-7b].weights_public=true          set a field of a model, system, actor
    derivations[openlab/ol-7b>tuner/legal].compute_flop=1e23
    offers[openlab/ol-7b,reseller,api].eu=true
    +offers={model: openlab/ol-7b, by: reseller, channel: api, eu: true}    add a record (YAML mapping)

Values are YAML (``true``, ``1e23``, ``[text, code]``, ``2026-01-01``, ``null``).
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass, fields, replace
from datetime import date
from enum import StrEnum
from typing import Any

import pydantic
import yaml

from valuechain.compliance.engine import Change, Diff, Engine
from valuechain.compliance.facts import (
    ChainFacts,
    facts_from_manifest,
)
from valuechain.core.errors import NotFoundError, ValidationError
from valuechain.core.plainyaml import load_plain_yaml
from valuechain.core.schema import finite_float
from valuechain.registry import manifest as mf

_SET = re.compile(
    r"^(?P<section>models|systems|actors|derivations|offers)\[(?P<key>[^\]]+)\]\.(?P<field>\w+)=(?P<value>.*)$",
    re.S,
)
_ADD = re.compile(r"^\+(?P<section>models|systems|actors|derivations|offers)=(?P<value>.*)$", re.S)
_MAX_VALUE_BYTES = 64 * 1024  # one record or one value of a what-if change
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)[eE][+-]?\d+$")
_IDENTITY = {"id", "parent", "child", "model", "by", "channel"}
_ENUMS: dict[str, type[StrEnum] | frozenset[str]] = {
    "output_modalities": mf.Modality,
    "licence_terms": mf.LicenceTerm,
    "monetised": mf.Monetisation,
    "synthetic_output": mf.SyntheticOutput,
    "annex_iii": mf.AnnexIII,
    "annex_iii_points": mf.AnnexIIIPoint,
    "relation": mf.Relation,
    "channel": mf.Channel,
    "changes": mf.SystemChange,
}


@dataclass(frozen=True, slots=True)
class Edit:
    """One parsed change: set ``field`` of record ``key`` in ``section``, or add a record (``key`` None)."""

    section: str
    key: str | None
    field: str | None
    value: Any


def parse_edit(text: str) -> Edit:
    """Parse one change expression; a ValidationError explains the syntax on failure."""
    text = text.strip()
    match = _SET.match(text)
    if match:
        return Edit(match["section"], match["key"], match["field"], _yaml(match["value"], text))
    match = _ADD.match(text)
    if match:
        value = _yaml(match["value"], text)
        if not isinstance(value, dict):
            raise ValidationError(f"`{text}`: the added record must be a YAML mapping")
        return Edit(match["section"], None, None, value)
    raise ValidationError(
        f"cannot parse change `{text}`: use SECTION[KEY].FIELD=VALUE "
        "(e.g. models[org/name].weights_public=true) or +SECTION={yaml mapping}"
    )


def _yaml(raw: str, text: str) -> Any:
    try:
        value = load_plain_yaml(raw, what=f"`{text}`", max_bytes=_MAX_VALUE_BYTES)
    except yaml.YAMLError as exc:
        raise ValidationError(f"`{text}`: value is not valid YAML ({exc})") from None
    if isinstance(value, str) and _NUMBER.match(value):
        return float(value)  # YAML 1.1 reads 1e23 (no dot) as a string; people write compute that way
    return value


def build_change(facts: ChainFacts, edits: list[Edit]) -> Change:
    """Turn edits into a Change of facts (later edits of the same record see earlier ones)."""
    change = Change()
    current: dict[tuple[str, str], Any] = {}
    for edit in edits:
        if edit.key is None:
            record = _new_record(edit.section, edit.value)
            key = _record_key(edit.section, record)
        else:
            key = edit.key
            record = current.get((edit.section, key)) or _lookup(facts, edit.section, key)
            record = _set_field(record, edit)
        current[(edit.section, key)] = record
    for (section, _), record in current.items():
        getattr(change, section).append(record)
    return change


def _record_key(section: str, record: Any) -> str:
    if section == "derivations":
        return f"{record.parent}>{record.child}"
    if section == "offers":
        return f"{record.model},{record.by},{record.channel}"
    return str(record.id)


def _lookup(facts: ChainFacts, section: str, key: str) -> Any:
    if section in ("models", "systems", "actors"):
        found = getattr(facts, section).get(key)
    elif section == "derivations":
        found = next((d for d in facts.derivations if f"{d.parent}>{d.child}" == key), None)
    else:
        found = next((o for o in facts.offers if f"{o.model},{o.by},{o.channel}" == key), None)
    if found is None:
        raise NotFoundError(f"what-if: no {section[:-1]} `{key}` in the chain")
    return found


def _set_field(record: Any, edit: Edit) -> Any:
    names = {f.name for f in fields(record)}
    if edit.field not in names:
        raise ValidationError(
            f"what-if: {edit.section} have no field `{edit.field}` (fields: {', '.join(sorted(names))})"
        )
    if edit.field in _IDENTITY:
        raise ValidationError(
            f"what-if: `{edit.field}` identifies the record and cannot be changed; add a new one"
        )
    hint = typing.get_type_hints(type(record))[edit.field]
    return replace(record, **{edit.field: _coerce(edit.field, hint, edit.value)})


def _coerce(name: str, hint: Any, value: Any) -> Any:
    args = typing.get_args(hint)
    optional = type(None) in args
    if value is None:
        if optional:
            return None
        raise ValidationError(f"what-if: `{name}` cannot be null")
    base = next((a for a in args if a is not type(None)), hint) if optional else hint
    origin = typing.get_origin(base)
    try:
        if origin in (frozenset, tuple):
            items = [str(v) for v in (value if isinstance(value, list) else [value])]
            _check_enum(name, items)
            return frozenset(items) if origin is frozenset else tuple(items)
        if base is bool:
            if not isinstance(value, bool):
                raise ValueError("expected true or false")
            return value
        if base is date:
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        if base is float:
            return finite_float(value)
        if base is int:
            return int(value)
        _check_enum(name, [str(value)])
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"what-if: bad value {value!r} for `{name}`: {exc}") from None


def _check_enum(name: str, items: list[str]) -> None:
    allowed = _ENUMS.get(name)
    if allowed is None:
        return
    values = {str(v) for v in allowed}
    bad = [i for i in items if i not in values]
    if bad:
        raise ValueError(f"{', '.join(bad)} not one of {', '.join(sorted(values))}")


def _new_record(section: str, data: dict[str, Any]) -> Any:
    """Validate an added record with the manifest schema, then turn it into a fact."""
    try:
        doc = mf.ChainManifest.model_validate({"valuechain": 2, section: [data]})  # format-2 facts too
    except pydantic.ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"][2:]) or section
        raise ValidationError(f"what-if: added {section[:-1]}: {where}: {first['msg']}") from None
    facts = facts_from_manifest(doc)
    if section in ("models", "systems", "actors"):
        return next(iter(getattr(facts, section).values()))
    return getattr(facts, section)[0]


def whatif(
    facts: ChainFacts, edits: list[str] | list[Edit], *, regime: str = "eu-ai-act", as_of: date | None = None
) -> Diff:
    """Evaluate ``facts``, apply the edits incrementally and return the difference in obligations."""
    parsed = [e if isinstance(e, Edit) else parse_edit(e) for e in edits]
    engine = Engine(facts, regime=regime, as_of=as_of)
    engine.evaluate()
    return engine.update(build_change(facts, parsed))
