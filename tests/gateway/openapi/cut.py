"""Cut OpenAI's published OpenAPI document down to what /v1 implements: ``python cut.py openapi.yml > openai-cut.json``.

Keeps the five operations valuechain serves and every component schema they reach through ``$ref``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import yaml

OPERATIONS = {
    ("/chat/completions", "post"),
    ("/completions", "post"),
    ("/embeddings", "post"),
    ("/models", "get"),
    ("/models/{model}", "get"),
}
ALSO = ("ErrorResponse", "CreateChatCompletionStreamResponse")


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _strip(node: Any) -> Any:
    """The schema without ``x-oaiMeta`` (examples for the reference pages, not constraints)."""
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k != "x-oaiMeta"}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def cut(doc: dict[str, Any]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, method in sorted(OPERATIONS):
        op = doc["paths"][path][method]
        op = {k: v for k, v in op.items() if k not in ("x-oaiMeta", "description")}
        paths.setdefault(path, {})[method] = op
    schemas = doc["components"]["schemas"]
    keep: set[str] = set(ALSO)
    _refs(paths, keep)
    todo = list(keep)
    while todo:
        found: set[str] = set()
        _refs(schemas[todo.pop()], found)
        todo.extend(found - keep)
        keep |= found
    return {
        "openapi": doc["openapi"],
        "info": {"title": doc["info"]["title"], "version": doc["info"]["version"]},
        "paths": paths,
        "components": {"schemas": {name: _strip(schemas[name]) for name in sorted(keep)}},
    }


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        json.dump(cut(yaml.safe_load(f)), sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write("\n")
