"""Annex XI technical documentation, Annex XII downstream pack and the public training-content summary.

Each document is a list of fields taken from the Act's annexes (research notes §4) filled from the facts;
every field the registry cannot fill yet is listed as missing, never invented.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from valuechain.compliance.engine import Engine
from valuechain.compliance.facts import ChainFacts, DerivationFact, ModelFact
from valuechain.compliance.views import ModelView, flop
from valuechain.core.errors import NotFoundError, ValidationError

KINDS = ("annex-xi", "annex-xii", "summary")
EVALUATION_REF = "XI §2 point 1"  # evaluation strategies and results (systemic-risk models)
TITLES = {
    "annex-xi": "Technical documentation (Art. 53(1)(a), Annex XI)",
    "annex-xii": "Information for downstream providers (Art. 53(1)(b), Annex XII)",
    "summary": "Public summary of training content (Art. 53(1)(d))",
}


@dataclass(frozen=True, slots=True)
class DocField:
    """One item of a document: its annex reference, label, value (None = not recorded) and fact source."""

    ref: str
    label: str
    value: str | None
    source: str = ""


@dataclass
class Document:
    """A generated document for one model."""

    kind: str
    model: str
    title: str
    provider: str | None
    scope: str
    as_of: date
    regime_version: str
    sections: list[tuple[str, list[DocField]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[DocField]:
        return [f for _, fields in self.sections for f in fields if f.value is None]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "model": self.model,
            "title": self.title,
            "provider": self.provider,
            "scope": self.scope,
            "as_of": self.as_of.isoformat(),
            "regime_version": self.regime_version,
            "sections": [{"heading": h, "fields": [_field_dict(f) for f in fs]} for h, fs in self.sections],
            "notes": self.notes,
            "missing": [_field_dict(f) for f in self.missing],
        }


def with_value(doc: Document, ref: str, value: str, source: str) -> Document:
    """``doc`` with the field ``ref`` filled: ``value`` after whatever was recorded (evaluation runs)."""
    sections = [
        (
            heading,
            [
                DocField(f.ref, f.label, f"{f.value}\n{value}" if f.value else value, f"{f.source}, {source}")
                if f.ref == ref
                else f
                for f in fields
            ],
        )
        for heading, fields in doc.sections
    ]
    return replace(doc, sections=sections)


def _field_dict(f: DocField) -> dict[str, Any]:
    return {"ref": f.ref, "label": f.label, "value": f.value, "source": f.source}


def build_document(
    facts: ChainFacts,
    model_id: str,
    kind: str,
    *,
    regime: str = "eu-ai-act",
    as_of: date | None = None,
    engine: Engine | None = None,
) -> Document:
    """Build one document kind (``annex-xi``, ``annex-xii``, ``summary``) for a model (``engine``: one
    already evaluated over ``facts``, reused when building many documents)."""
    if kind not in KINDS:
        raise ValidationError(f"unknown document kind `{kind}` (known: {', '.join(KINDS)})")
    if model_id not in facts.models:
        raise NotFoundError(f"unknown model `{model_id}`")
    if engine is None:
        engine = Engine(facts, regime=regime, as_of=as_of)
        engine.evaluate()
    view = engine.view(model_id)
    role = next((r for r in view.roles if r.decided is not False), None)
    scope = role.scope if role else "full"
    doc = Document(
        kind=kind,
        model=model_id,
        title=TITLES[kind],
        provider=role.actor if role else None,
        scope=scope,
        as_of=engine.as_of,
        regime_version=engine.pack.version,
    )
    ctx = _Context(facts, view, [d for d in facts.derivations if d.child == model_id], scope)
    doc.sections.append(("General information", ctx.general()))
    if kind == "annex-xi":
        doc.sections += [
            ("Section 1 - general description", ctx.xi_section1()),
            ("Section 2 - development process", ctx.xi_section2()),
        ]
        if view.systemic:
            doc.sections.append(("Systemic-risk models - additional information", ctx.xi_systemic()))
    elif kind == "annex-xii":
        doc.sections += [
            ("Section 1 - general description", ctx.xii_section1()),
            ("Section 2 - elements and development", ctx.xii_section2()),
        ]
    else:
        doc.sections += ctx.summary_sections()
    if scope == "modification":
        doc.sections.append(("Modification (recital 109, GL §3.2.1)", ctx.modification()))
        doc.notes.append(
            "The provider modified another provider's model: this document is limited to the "
            "modification (recital 109, GL §3.2.1)."
        )
    if view.gpai is False:
        doc.notes.append(f"Not a GPAI model ({view.gpai_reason}); this document is voluntary.")
    if view.exempt is True and kind != "summary":
        doc.notes.append("Open-source exemption applies (Art. 53(2)); this document is voluntary.")
    return doc


class _Context:
    """Field builders over one model's facts."""

    def __init__(
        self, facts: ChainFacts, view: ModelView, parents: list[DerivationFact], scope: str = "full"
    ) -> None:
        self.facts = facts
        self.view = view
        self.m: ModelFact = view.fact
        self.parents = parents
        self.scope = scope

    def _training_compute(self) -> DocField:
        """XI 2(d): the model's compute; limited to the modification, the modification's (GL para 60)."""
        label = "Computational resources used for training"
        total = f"{flop(self.view.compute)} FLOP" if self.view.compute is not None else None
        if self.scope != "modification":
            return DocField("XI 2(d)", label, total, "models.training_compute_flop or 6·parameters·tokens")
        spent = [d.compute_flop for d in self.parents]
        value = None
        if spent and None not in spent:
            value = f"{flop(sum(s for s in spent if s is not None))} FLOP for the modification"
            value += f" (cumulative with the modified model: {total})" if total else ""
        return DocField("XI 2(d)", label + " (the modification)", value, "derivations.compute_flop")

    def _rec(self, ref: str, label: str, name: str) -> DocField:
        """A field recorded as such (manifest format 2, ``valuechain compliance record``)."""
        return DocField(ref, label, dict(self.m.documentation).get(name), f"models.{name}")

    def general(self) -> list[DocField]:
        provider = self.view.provider
        actor = self.facts.actors.get(provider) if provider else None
        return [
            DocField("MDF 1", "Legal name of the provider", actor.name if actor else None, "actors.name"),
            DocField(
                "MDF 2", "Model name and version", f"{self.m.id} (version {self.m.version})", "models.id"
            ),
            DocField("MDF 5", "Union market release date", _iso(self.view.placing_date), "models.eu_market"),
            DocField(
                "MDF 6",
                "Model dependencies",
                ", ".join(d.parent for d in self.parents) or "N/A",
                "derivations.parent",
            ),
            DocField("Art. 51", "Classification", _classification(self.view), "engine"),
        ]

    def _tasks(self, ref: str) -> DocField:
        return DocField(
            ref,
            "Tasks the model is intended to perform; type and nature of AI systems",
            self.m.description,
            "models.description",
        )

    def _release(self, ref: str) -> list[DocField]:
        offers = [o for o in self.facts.offers if o.model == self.m.id]
        methods = "; ".join(f"{o.channel} by {o.by}{' (EU)' if o.eu else ''}" for o in offers) or None
        return [
            DocField(ref, "Date of release", _iso(self.m.eu_market), "models.eu_market"),
            DocField(ref, "Methods of distribution", methods, "offers"),
        ]

    def _architecture(self, ref: str) -> list[DocField]:
        params = flop(self.m.parameters) if self.m.parameters is not None else None
        return [
            self._rec(ref, "Architecture", "architecture"),
            DocField(ref, "Number of parameters", params, "models.parameters"),
        ]

    def _modalities(self, ref: str) -> list[DocField]:
        outputs = ", ".join(sorted(self.m.output_modalities)) or None
        return [
            self._rec(ref, "Input modalities and format", "input_modalities"),
            DocField(ref, "Output modalities and format", outputs, "models.output_modalities"),
        ]

    def _licence(self, ref: str) -> DocField:
        terms = f" (terms: {', '.join(sorted(self.m.licence_terms))})" if self.m.licence_terms else ""
        return DocField(ref, "Licence", self.m.licence + terms, "models.licence, models.licence_terms")

    def _data(self, ref: str) -> DocField:
        return DocField(
            ref,
            "Training data: type, provenance, curation",
            self.m.training_data_summary,
            "models.training_data_summary",
        )

    def xi_section1(self) -> list[DocField]:
        return [
            self._tasks("XI 1(a)"),
            self._rec("XI 1(b)", "Acceptable use policies", "acceptable_use_policy"),
            *self._release("XI 1(c)"),
            *self._architecture("XI 1(d)"),
            *self._modalities("XI 1(e)"),
            self._licence("XI 1(f)"),
        ]

    def xi_section2(self) -> list[DocField]:
        tokens = f"{flop(self.m.training_tokens)} tokens" if self.m.training_tokens is not None else None
        return [
            self._rec("XI 2(a)", "Technical means for integration", "integration_means"),
            self._rec(
                "XI 2(b)", "Design specifications of model and training process", "design_specification"
            ),
            self._data("XI 2(c)"),
            DocField("XI 2(c)", "Number of data points", tokens, "models.training_tokens"),
            self._training_compute(),
            self._rec("XI 2(d)", "Training time", "training_time"),
            self._rec("XI 2(e)", "Known or estimated energy consumption", "energy"),
        ]

    def xi_systemic(self) -> list[DocField]:
        return [
            self._rec(EVALUATION_REF, "Evaluation strategies and results", "evaluation_results"),
            self._rec("XI §2 point 2", "Adversarial testing and model adaptations", "adversarial_testing"),
            self._rec("XI §2 point 3", "System architecture", "system_architecture"),
        ]

    def xii_section1(self) -> list[DocField]:
        return [
            self._tasks("XII 1(a)"),
            self._rec("XII 1(b)", "Acceptable use policies", "acceptable_use_policy"),
            *self._release("XII 1(c)"),
            self._rec(
                "XII 1(d)", "Interaction with hardware or software not part of the model", "interaction"
            ),
            self._rec("XII 1(e)", "Versions of relevant software", "software_versions"),
            *self._architecture("XII 1(f)"),
            *self._modalities("XII 1(g)"),
            self._licence("XII 1(h)"),
        ]

    def xii_section2(self) -> list[DocField]:
        return [
            self._rec("XII 2(a)", "Technical means for integration", "integration_means"),
            self._rec("XII 2(b)", "Maximum input and output size (e.g. context window)", "context_window"),
            self._data("XII 2(c)"),
        ]

    def summary_sections(self) -> list[tuple[str, list[DocField]]]:
        tokens = f"{flop(self.m.training_tokens)} tokens" if self.m.training_tokens is not None else None
        modalities = ", ".join(sorted(self.m.output_modalities)) or None
        sources = self.m.training_data_summary
        if self.parents and self.view.roles and self.view.roles[0].scope == "modification":
            sources = "; ".join(d.data_summary for d in self.parents if d.data_summary) or None
        return [
            (
                "1. General information",
                [
                    DocField("T 1", "Modalities", modalities, "models.output_modalities"),
                    DocField("T 1", "Size of the training data", tokens, "models.training_tokens"),
                    self._rec("T 1", "Knowledge cut-off", "knowledge_cutoff"),
                ],
            ),
            (
                "2. List of data sources",
                [
                    DocField(
                        "T 2",
                        "Data sources (public datasets, licensed, crawled, user, synthetic)",
                        sources,
                        "models.training_data_summary / derivations.data_summary",
                    ),
                    self._rec("T 2", "Top domain names crawled", "crawled_domains"),
                ],
            ),
            (
                "3. Relevant data-processing aspects",
                [
                    self._rec(
                        "T 3",
                        "Respect of text-and-data-mining reservations (Art. 4(3) Directive 2019/790)",
                        "tdm_reservations",
                    ),
                    self._rec("T 3", "Removal of illegal content", "illegal_content_removal"),
                ],
            ),
        ]

    def modification(self) -> list[DocField]:
        out = []
        for d in self.parents:
            compute = f"{flop(d.compute_flop)} FLOP" if d.compute_flop is not None else None
            out += [
                DocField("GL §3.2", f"Modified model ({d.relation})", d.parent, "derivations.parent"),
                DocField(
                    "GL para 60", "Compute used for the modification", compute, "derivations.compute_flop"
                ),
                DocField(
                    "recital 109",
                    "Data used for the modification",
                    d.data_summary or dict(self.m.documentation).get("modification_data"),
                    "derivations.data_summary or models.modification_data",
                ),
            ]
        return out


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _classification(view: ModelView) -> str:
    words = {True: "yes", False: "no", None: "cannot decide"}
    return (
        f"GPAI: {words[view.gpai]}; systemic risk: {words[view.systemic]}; "
        f"open-source exempt: {words[view.exempt]}"
    )
