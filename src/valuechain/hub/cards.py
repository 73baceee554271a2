"""Model cards: the YAML front matter of ``README.md`` parsed into the fields the registry keeps.

Field names follow the Hugging Face model-card spec (https://huggingface.co/docs/hub/model-cards).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from valuechain.core.errors import ValidationError
from valuechain.core.plainyaml import load_plain_yaml

RELATIONS = ("adapter", "merge", "quantized", "finetune")
# As huggingface_hub's REGEX_YAML_BLOCK: blank lines may precede the opening ``---``.
_FRONT_MATTER = re.compile(r"\A\ufeff?\s*---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
# Issue 17: a ~350-byte card of nested aliases expanded past 2 GB. Card metadata is plain data, so aliases
# are refused outright, and its size is capped (the Hub's own cards stay far below this).
MAX_METADATA_BYTES = 256 * 1024
EMPTY_METADATA = "Empty metadata: the model card has no YAML front matter (license, tags, base_model, ...)"


@dataclass(frozen=True)
class CardData:
    """What a model card declares about the model."""

    license: str | None = None
    license_name: str | None = None
    license_link: str | None = None
    base_models: tuple[str, ...] = ()
    base_model_relation: str | None = None
    datasets: tuple[str, ...] = ()
    pipeline_tag: str | None = None
    library_name: str | None = None
    language: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def relation(self) -> str | None:
        """The declared relation to the base model(s); a list of several bases means a merge."""
        if self.base_model_relation:
            return self.base_model_relation
        if len(self.base_models) > 1:
            return "merge"
        return "finetune" if self.base_models else None

    def hub_tags(self) -> list[str]:
        """Tags as the Hub derives them: card tags, ``base_model:X``, ``base_model:<rel>:X``, licence."""
        tags = list(self.tags)
        if self.library_name:
            tags.append(self.library_name)
        if self.pipeline_tag:
            tags.append(self.pipeline_tag)
        tags += [f"dataset:{name}" for name in self.datasets]
        tags += list(self.language)
        for base in self.base_models:
            tags += [f"base_model:{base}", f"base_model:{self.relation}:{base}"]
        if self.license:
            tags.append(f"license:{self.license}")
        return list(dict.fromkeys(tags))


def parse_card(text: str) -> CardData:
    """Parse the front matter of a model card; a card without one yields empty data."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return CardData()
    try:
        raw = (
            load_plain_yaml(match.group(1), what="README.md front matter", max_bytes=MAX_METADATA_BYTES) or {}
        )
    except yaml.YAMLError as exc:
        raise ValidationError(f"README.md front matter is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ValidationError("README.md front matter must be a YAML mapping")
    return card_from_raw(raw)


def card_from_raw(raw: dict[str, Any]) -> CardData:
    """Card data from an already parsed front-matter mapping."""
    _check_model_index(raw.get("model-index"))
    relation = _optional_str(raw, "base_model_relation")
    if relation is not None and relation not in RELATIONS:
        raise ValidationError(f"base_model_relation must be one of {', '.join(RELATIONS)}, not {relation!r}")
    return CardData(
        license=_optional_str(raw, "license"),
        license_name=_optional_str(raw, "license_name"),
        license_link=_optional_str(raw, "license_link"),
        base_models=_str_list(raw, "base_model"),
        base_model_relation=relation,
        datasets=_str_list(raw, "datasets"),
        pipeline_tag=_optional_str(raw, "pipeline_tag"),
        library_name=_optional_str(raw, "library_name"),
        language=_str_list(raw, "language"),
        tags=_str_list(raw, "tags"),
        raw=_jsonable(raw),
    )


def card_warnings(text: str) -> list[str]:
    """What ``/api/validate-yaml`` warns about without refusing (a card without metadata)."""
    match = _FRONT_MATTER.match(text)
    return [EMPTY_METADATA] if match is None or not match.group(1).strip() else []


def _check_model_index(value: Any) -> None:
    """``model-index`` as the Hub's schema requires: named models with results of a task on a dataset,
    each with metrics that have a type and a value (https://huggingface.co/docs/hub/model-cards)."""
    if value is None:
        return
    problem = "model-index must be a list of {name, results} mappings"
    if not isinstance(value, list) or not all(isinstance(m, dict) for m in value):
        raise ValidationError(problem)
    for model in value:
        results = model.get("results")
        if not isinstance(model.get("name"), str) or not isinstance(results, list):
            raise ValidationError(problem)
        for result in results:
            if not _is_result(result):
                raise ValidationError(
                    "model-index results need task.type, dataset.type, dataset.name and metrics with "
                    "type and value"
                )


def _is_result(result: Any) -> bool:
    if not isinstance(result, dict):
        return False
    task, dataset, metrics = result.get("task"), result.get("dataset"), result.get("metrics")
    return (
        isinstance(task, dict)
        and "type" in task
        and isinstance(dataset, dict)
        and {"type", "name"} <= dataset.keys()
        and isinstance(metrics, list)
        and all(isinstance(m, dict) and {"type", "value"} <= m.keys() for m in metrics)
    )


def card_errors(text: str) -> list[str]:
    """Problems in a card, as ``/api/validate-yaml`` reports them (empty when fine)."""
    try:
        parse_card(text)
    except ValidationError as exc:
        return [exc.message]
    return []


def _optional_str(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool | dict | list):
        raise ValidationError(f"model card field {key!r} must be a string")
    return str(value)


def _str_list(raw: dict[str, Any], key: str) -> tuple[str, ...]:
    value = raw.get(key)
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    if any(isinstance(item, dict | list) or item is None for item in items):
        raise ValidationError(f"model card field {key!r} must be a string or a list of strings")
    return tuple(str(item) for item in items)


def _jsonable(value: Any) -> Any:
    """YAML may hold dates and other types; keep the card JSON-serialisable for ``cardData``."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
