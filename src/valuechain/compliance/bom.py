"""AI-BOM: a model's lineage as a CycloneDX 1.6 ML-BOM (raw JSON: cyclonedx-python-lib has no modelCard yet).

Fields CycloneDX lacks (compute, tokens, EU market date, AI Act classification) go into properties under the
``valuechain:`` namespace (research notes §6.2). Validated against the official 1.6 schema shipped with
cyclonedx-python-lib.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from valuechain.compliance.engine import Engine
from valuechain.compliance.facts import ChainFacts, DerivationFact
from valuechain.compliance.views import ModelView
from valuechain.core.errors import NotFoundError

SPEC_VERSION = "1.6"


@lru_cache(maxsize=1)
def _spdx_ids() -> dict[str, str]:
    """Lower-case → canonical SPDX licence ids, from the SPDX list CycloneDX validates against."""
    import cyclonedx.schema._res as res

    schema = json.loads((Path(res.__file__).parent / "spdx.SNAPSHOT.schema.json").read_text(encoding="utf-8"))
    return {value.lower(): value for value in schema["enum"]}


def _licences(licence: str) -> list[dict[str, Any]]:
    spdx = _spdx_ids().get(licence.lower())
    return [{"license": {"id": spdx}}] if spdx else [{"license": {"name": licence}}]


def _prop(name: str, value: object) -> dict[str, str]:
    return {
        "name": f"valuechain:{name}",
        "value": str(value).lower() if isinstance(value, bool) else str(value),
    }


def _ref(model_id: str, version: str) -> str:
    return f"model:{model_id}@{version}"


class _Builder:
    def __init__(self, facts: ChainFacts, engine: Engine) -> None:
        self.facts = facts
        self.engine = engine
        self.parents: dict[str, list[DerivationFact]] = {}
        for d in facts.derivations:
            self.parents.setdefault(d.child, []).append(d)
        self.seen: set[str] = set()

    def component(self, model_id: str) -> dict[str, Any]:
        view = self.engine.view(model_id)
        m = view.fact
        ref = _ref(m.id, m.version)
        owner, name = m.id.split("/", 1)
        actor = self.facts.actors.get(m.releaser)
        comp: dict[str, Any] = {
            "type": "machine-learning-model",
            "group": owner,
            "name": name,
            "version": m.version,
        }
        if ref not in self.seen:  # bom-refs must be unique within the BOM (diamond lineage)
            comp["bom-ref"] = ref
            self.seen.add(ref)
        if m.description:
            comp["description"] = m.description
        comp["supplier"] = {"name": actor.name if actor else m.releaser}
        comp["licenses"] = _licences(m.licence)
        comp["modelCard"] = self.model_card(view)
        ancestors = [
            self.component(d.parent) for d in self.parents.get(m.id, []) if d.parent in self.facts.models
        ]
        if ancestors:
            comp["pedigree"] = {"ancestors": ancestors}
        comp["properties"] = self.properties(view)
        return comp

    def model_card(self, view: ModelView) -> dict[str, Any]:
        m = view.fact
        params: dict[str, Any] = {}
        if m.output_modalities:
            params["outputs"] = [{"format": x} for x in sorted(m.output_modalities)]
        if m.training_data_summary:
            params["datasets"] = [
                {"type": "dataset", "name": "training data", "description": m.training_data_summary}
            ]
        card: dict[str, Any] = {"modelParameters": params} if params else {}
        if m.description:
            card["considerations"] = {"useCases": [m.description]}
        card["properties"] = [
            _prop("eu-ai-act:gpai", _word(view.gpai)),
            _prop("eu-ai-act:systemic_risk", _word(view.systemic)),
            _prop("eu-ai-act:open_source_exempt", _word(view.exempt)),
            _prop("eu-ai-act:provider", view.provider or "undetermined"),
        ]
        return card

    def properties(self, view: ModelView) -> list[dict[str, str]]:
        m = view.fact
        props = [_prop("model:id", m.id), _prop("model:releaser", m.releaser)]
        optional = {
            "model:parameters": m.parameters,
            "model:training_tokens": m.training_tokens,
            "model:training_compute_flop": view.compute,
            "model:eu_market": m.eu_market,
        }
        props += [
            _prop(k, v.isoformat() if isinstance(v, date) else f"{v:.6g}")
            for k, v in optional.items()
            if v is not None
        ]
        props += [
            _prop("model:weights_public", m.weights_public),
            _prop("model:architecture_public", m.architecture_public),
            _prop("model:usage_info_public", m.usage_info_public),
            _prop("model:eu_excluded", m.eu_excluded),
        ]
        props += [_prop("model:licence_term", t) for t in sorted(m.licence_terms)]
        props += [_prop("model:monetised", t) for t in sorted(m.monetised)]
        for d in self.parents.get(m.id, []):
            props += [
                _prop("lineage:derived_from", d.parent),
                _prop("lineage:relation", d.relation),
                _prop("lineage:modified_by", d.by),
            ]
            if d.on_behalf_of:
                props.append(_prop("lineage:on_behalf_of", d.on_behalf_of))
            if d.compute_flop is not None:
                props.append(_prop("lineage:modification_compute_flop", f"{d.compute_flop:.6g}"))
        return props


def _word(value: bool | None) -> str:
    return "undecided" if value is None else str(value).lower()


def build_bom(
    facts: ChainFacts, model_id: str, *, regime: str = "eu-ai-act", as_of: date | None = None
) -> dict[str, Any]:
    """The CycloneDX 1.6 ML-BOM of one model with its ancestors in ``pedigree``."""
    if model_id not in facts.models:
        raise NotFoundError(f"unknown model `{model_id}`")
    engine = Engine(facts, regime=regime, as_of=as_of)
    engine.evaluate()
    component = _Builder(facts, engine).component(model_id)
    serial = uuid.uuid5(uuid.NAMESPACE_URL, f"valuechain:{model_id}:{engine.as_of.isoformat()}")
    try:
        version = metadata.version("valuechain")
    except metadata.PackageNotFoundError:
        version = "0"
    return {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": f"urn:uuid:{serial}",
        "version": 1,
        "metadata": {
            "timestamp": f"{engine.as_of.isoformat()}T00:00:00Z",
            "tools": {"components": [{"type": "application", "name": "valuechain", "version": version}]},
            "component": component,
            "properties": [_prop("regime", f"{engine.pack.regime} {engine.pack.version}")],
        },
    }


def validate_bom(bom: dict[str, Any]) -> list[str]:
    """Errors of the BOM against the official CycloneDX 1.6 JSON schema (empty when valid)."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(bom), all_errors=True)
    if not errors:
        return []
    return [f"/{'/'.join(str(p) for p in e.data.absolute_path)}: {e.data.message}" for e in errors]
