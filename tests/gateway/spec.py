"""Validators for schemas of the pinned cut of OpenAI's OpenAPI document (``tests/gateway/openapi``)."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import jsonschema

CUT = Path(__file__).parent / "openapi" / "openai-cut.json"


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable: true`` (which the 3.1 document still uses) as JSON Schema's null type."""
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _nullable(v) for k, v in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


@functools.cache
def _document() -> dict[str, Any]:
    doc = _nullable(json.loads(CUT.read_text()))
    schemas = doc["components"]["schemas"]
    # Three departures, each where OpenAI's own API answers what its document does not allow (the rest is as
    # published): with ``echo``, the first prompt token has no logprob (null in ``token_logprobs`` and
    # ``top_logprobs``; lm-evaluation-harness relies on it); in legacy completion streams every chunk but
    # a choice's last has ``finish_reason: null`` (the document has one schema for both shapes); and with
    # ``encoding_format: "base64"`` (the official SDK's default) an embedding is a base64 string.
    vector = schemas["Embedding"]["properties"]["embedding"]
    schemas["Embedding"]["properties"]["embedding"] = {"anyOf": [vector, {"type": "string"}]}
    logprobs = schemas["CreateCompletionResponse"]["properties"]["choices"]["items"]["properties"]["logprobs"]
    for key in ("token_logprobs", "top_logprobs"):
        items = logprobs["anyOf"][0]["properties"][key]
        items["items"] = {"anyOf": [items["items"], {"type": "null"}]}
    stream = copy.deepcopy(schemas["CreateCompletionResponse"])
    reason = stream["properties"]["choices"]["items"]["properties"]["finish_reason"]
    stream["properties"]["choices"]["items"]["properties"]["finish_reason"] = {
        "anyOf": [reason, {"type": "null"}]
    }
    schemas["CreateCompletionStreamChunk"] = stream
    return doc  # type: ignore[no-any-return]


@functools.cache
def validator(name: str) -> jsonschema.Draft202012Validator:
    """A validator of ``#/components/schemas/<name>``."""
    root = {**_document(), "$ref": f"#/components/schemas/{name}"}
    return jsonschema.Draft202012Validator(root)


def check(name: str, instance: Any) -> None:
    """Fail with the first violation, its path and the instance."""
    error = jsonschema.exceptions.best_match(validator(name).iter_errors(instance))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path)
        raise AssertionError(f"{name} at /{where}: {error.message}\n{json.dumps(instance)[:2000]}")
