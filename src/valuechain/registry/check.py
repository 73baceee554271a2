"""Validate a chain manifest and report every problem with its line, field path and what is wrong."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
import yaml
import yaml_rs

from valuechain.core.errors import ValidationError, format_path
from valuechain.registry.manifest import (
    ChainManifest,
    Channel,
    ManifestActor,
    ManifestDerivation,
    ManifestModel,
    ManifestOffer,
    ManifestResale,
    ManifestSystem,
    split_ref,
)

MAX_MANIFEST_BYTES = 512 * 1024 * 1024
# Aliases are allowed (shared defaults), but what they expand to is capped (issue 17: alias bombs).
MAX_ALIAS_NODES = 100_000
_ALIAS_LIMITS = yaml_rs.AliasLimits(max_total_replayed_events=MAX_ALIAS_NODES, max_replay_stack_depth=16)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a manifest."""

    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "document"
        return f"{where}: {self.path or '(root)'}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "path": self.path, "message": self.message}


class ManifestError(ValidationError):
    """The manifest is invalid; ``problems`` lists every problem found."""

    code = "invalid_manifest"

    def __init__(self, problems: list[Problem], *, source: str = "manifest") -> None:
        self.problems = problems
        summary = f"{source}: {len(problems)} problem(s): " + "; ".join(str(p) for p in problems[:5])
        super().__init__(summary, details=[p.as_dict() for p in problems])


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Lines:
    """Finds the source line of a path; composes the YAML node tree only when a problem needs it."""

    def __init__(self, text: str | None) -> None:
        self.text = text
        self._root: yaml.Node | None = None
        self._composed = False

    @property
    def root(self) -> yaml.Node | None:
        if not self._composed and self.text is not None:
            self._composed = True
            try:
                self._root = yaml.compose(self.text, Loader=_Loader)
            except yaml.YAMLError:  # valid YAML 1.2 that PyYAML (1.1) cannot compose: no line numbers
                self._root = None
        return self._root

    def line(self, loc: tuple[Any, ...] | list[Any]) -> int | None:
        node = self.root
        best = node.start_mark.line + 1 if node is not None else None
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                match = next((kv for kv in node.value if kv[0].value == part), None)
                if match is None:
                    return best
                key, node = match
                best = key.start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                best = node.start_mark.line + 1
            else:
                return best
        return best


def parse_manifest(text: str, *, source: str = "manifest") -> ChainManifest:
    """Parse and fully check manifest text; raise ``ManifestError`` listing every problem."""
    data = _load_yaml(text, source)
    lines = _Lines(text)
    if not isinstance(data, dict):
        raise ManifestError(
            [Problem(lines.line(()), "", "a manifest is a mapping with `valuechain: 1`")], source=source
        )
    try:
        manifest = ChainManifest.model_validate(data)
    except pydantic.ValidationError as exc:
        # One pass reports both kinds: the records that passed the schema still get reference checks.
        problems = _schema_problems(exc, lines) + _partial_references(data, lines)
        raise ManifestError(problems, source=source) from None
    problems = check_references(manifest, lines)
    if problems:
        raise ManifestError(problems, source=source)
    return manifest


def _load_yaml(text: str, source: str) -> Any:
    """Parse YAML 1.2 with yaml-rs (fast, rejects duplicate keys, caps what aliases expand to; 'NO' stays a
    string)."""
    try:
        return yaml_rs.loads(text, alias_limits=_ALIAS_LIMITS)
    except yaml_rs.YAMLDecodeError as exc:
        message = str(exc).strip()
        found = re.search(r"line (\d+)", message)
        summary = message.splitlines()[-1].strip() if "\n" in message else message
        problem = Problem(int(found.group(1)) if found else None, "", f"not valid YAML: {summary}")
        raise ManifestError([problem], source=source) from None


def load_manifest(path: str | Path) -> ChainManifest:
    """Read and check a manifest file."""
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"manifest file not found: {path}")
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise ValidationError(f"manifest file too large: {path} (limit {MAX_MANIFEST_BYTES} bytes)")
    return parse_manifest(path.read_text(encoding="utf-8"), source=str(path))


def _schema_problems(exc: pydantic.ValidationError, lines: _Lines) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        if err["type"] == "extra_forbidden":
            message = f"unknown field `{loc[-1]}`"
        elif err["type"] == "missing":
            message = f"missing required field `{loc[-1]}`"
        else:
            message = f"{err['msg']} (got {_short(err.get('input'))})"
        problems.append(Problem(lines.line(loc), format_path(loc), message))
    return problems


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_references(
    manifest: ChainManifest,
    lines: _Lines | None = None,
    *,
    positions: dict[str, list[int]] | None = None,
    declared: dict[str, set[str]] | None = None,
) -> list[Problem]:
    """Cross-record checks: duplicates, dangling references, contradictions, lineage cycles.

    ``positions`` maps a section's record index to its index in the document (when only some records
    are checked); ``declared`` holds ids declared by records left out, which are then not "unknown".
    """
    lines = lines or _Lines(None)
    problems: list[Problem] = []
    declared = declared or {}

    def report(loc: tuple[Any, ...], message: str) -> None:
        if positions and len(loc) > 1 and loc[0] in positions:
            loc = (loc[0], positions[loc[0]][loc[1]], *loc[2:])
        problems.append(Problem(lines.line(loc), format_path(loc), message))

    actors = _unique(manifest.actors, "actors", "actor", report)
    models = _unique(manifest.models, "models", "model", report)
    _unique(manifest.systems, "systems", "system", report)

    def need_actor(loc: tuple[Any, ...], actor: str | None) -> None:
        if actor is not None and actor not in actors and actor not in declared.get("actors", ()):
            report(loc, f"unknown actor `{actor}` (declare it under actors)")

    def need_model(loc: tuple[Any, ...], ref: str) -> None:
        model_id, _ = split_ref(ref)
        if model_id not in models and model_id not in declared.get("models", ()):
            report(loc, f"unknown model `{model_id}` (declare it under models)")

    for i, actor in enumerate(manifest.actors):
        if actor.microenterprise and not actor.sme:
            report(("actors", i, "microenterprise"), "a microenterprise is an SME: set `sme: true`")
    for i, model in enumerate(manifest.models):
        need_actor(("models", i, "id"), model.owner)
        need_actor(("models", i, "released_by"), model.released_by)
    for i, drv in enumerate(manifest.derivations):
        need_model(("derivations", i, "parent"), drv.parent)
        need_model(("derivations", i, "child"), drv.child)
        need_actor(("derivations", i, "by"), drv.by)
        need_actor(("derivations", i, "on_behalf_of"), drv.on_behalf_of)
        if split_ref(drv.parent)[0] == split_ref(drv.child)[0]:
            report(("derivations", i, "child"), "a model cannot be derived from itself")
    for i, offer in enumerate(manifest.offers):
        need_model(("offers", i, "model"), offer.model)
        need_actor(("offers", i, "by"), offer.by)
        model = models.get(split_ref(offer.model)[0])
        if model is not None and offer.eu and model.eu_excluded and offer.by == model.releaser:
            report(("offers", i, "eu"), f"`{model.id}` excludes the EU, but its releaser offers it in the EU")
        if offer.marketed_as is not None and offer.channel != Channel.white_label:
            report(
                ("offers", i, "marketed_as"),
                "only a `white_label` offer is marketed under a reseller's name; leave `marketed_as` out",
            )
    for i, system in enumerate(manifest.systems):
        need_actor(("systems", i, "id"), system.id.split("/", 1)[0])
        need_actor(("systems", i, "provider"), system.provider)
        for j, deployer in enumerate(system.deployers):
            need_actor(("systems", i, "deployers", j), deployer)
        for j, ref in enumerate(system.models):
            need_model(("systems", i, "models", j), ref)
    for i, resale in enumerate(manifest.resale or ()):
        need_actor(("resale", i, "provider"), resale.provider)
        need_actor(("resale", i, "reseller"), resale.reseller)
        need_model(("resale", i, "model"), resale.model)
        model = models.get(split_ref(resale.model)[0])
        if model is not None and resale.provider not in (model.owner, model.releaser):
            report(("resale", i, "provider"), f"`{resale.provider}` neither owns nor releases `{model.id}`")
        if resale.reseller == resale.provider:
            report(("resale", i, "reseller"), "a provider does not resell its own model")
    for loc, message in _cycles(manifest):
        report(loc, message)
    return problems


_SECTIONS: dict[str, type[pydantic.BaseModel]] = {
    "actors": ManifestActor,
    "models": ManifestModel,
    "derivations": ManifestDerivation,
    "offers": ManifestOffer,
    "systems": ManifestSystem,
    "resale": ManifestResale,
}


def _partial_references(data: dict[str, Any], lines: _Lines) -> list[Problem]:
    """Reference checks over the records that pass the schema (ids of the others count as declared)."""
    kept: dict[str, list[Any]] = {section: [] for section in _SECTIONS}
    positions: dict[str, list[int]] = {section: [] for section in _SECTIONS}
    declared: dict[str, set[str]] = {section: set() for section in _SECTIONS}
    for section, record in _SECTIONS.items():
        items = data.get(section)
        for i, item in enumerate(items if isinstance(items, list) else []):
            try:
                kept[section].append(record.model_validate(item))
                positions[section].append(i)
            except pydantic.ValidationError:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    declared[section].add(item["id"])
    partial = ChainManifest.model_construct(valuechain=1, **kept)
    return check_references(partial, lines, positions=positions, declared=declared)


def _unique(items: list[Any], section: str, noun: str, report: Any) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for i, item in enumerate(items):
        if item.id in seen:
            report((section, i, "id"), f"duplicate {noun} id `{item.id}`")
        else:
            seen[item.id] = item
    return seen


def _cycles(manifest: ChainManifest) -> list[tuple[tuple[Any, ...], str]]:
    """Lineage must be acyclic (model level); report the edge that closes a cycle."""
    children: dict[str, list[tuple[int, str]]] = {}
    for i, drv in enumerate(manifest.derivations):
        children.setdefault(split_ref(drv.parent)[0], []).append((i, split_ref(drv.child)[0]))
    state: dict[str, int] = {}
    problems: list[tuple[tuple[Any, ...], str]] = []
    for start in list(children):
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        state[start] = 1
        while stack:
            node, idx = stack[-1]
            edges = children.get(node, [])
            if idx >= len(edges):
                state[node] = 2
                stack.pop()
                continue
            stack[-1] = (node, idx + 1)
            edge_index, child = edges[idx]
            if state.get(child) == 1:
                problems.append((("derivations", edge_index, "child"), f"lineage cycle through `{child}`"))
            elif not state.get(child):
                state[child] = 1
                stack.append((child, 0))
    return problems
