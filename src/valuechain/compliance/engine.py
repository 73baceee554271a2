"""The accountability engine: facts → classified views → obligations, memoised per model and system.

A changed fact re-evaluates only what depends on it: the changed model and, while their lineage-relevant
classification keeps changing, its descendants (in topological order); a changed system only itself.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from valuechain.compliance import completions
from valuechain.compliance.facts import (
    ActorFact,
    ChainFacts,
    DerivationFact,
    ModelFact,
    OfferFact,
    ResaleFact,
    SystemFact,
)
from valuechain.compliance.pack import Regime, RuleSpec, load_regime
from valuechain.compliance.results import (
    Change,
    Diff,
    Evaluation,
    EvidenceKey,
    Obligation,
    model_entry,
)
from valuechain.compliance.views import ModelView, SystemView, Tri, and3
from valuechain.core.clock import utcnow
from valuechain.core.errors import ValidationError


class Engine:
    """Evaluates a chain and keeps per-model and per-system results for incremental re-evaluation."""

    def __init__(
        self,
        facts: ChainFacts,
        *,
        regime: str | Regime = "eu-ai-act",
        as_of: date | None = None,
        evidence: Mapping[EvidenceKey, str] | None = None,
        rules: Iterable[str] | None = None,
        sound: bool = True,
    ) -> None:
        self.sound = sound
        self.regime = load_regime(regime) if isinstance(regime, str) else regime
        self.pack = self.regime.pack
        self.as_of = as_of or facts.as_of or utcnow().date()
        self.evidence = dict(evidence or {})
        self.regime.check_rule_ids([k[2] for k in self.evidence])
        selected = list(rules) if rules is not None else [s.id for s in self.pack.rules]
        self.regime.check_rule_ids(selected)
        self._selected = selected
        self._decided: completions.Cache = {}
        self._model_specs = [s for s in self.pack.rules if s.id in selected and s.subject == "model"]
        self._system_specs = [s for s in self.pack.rules if s.id in selected and s.subject == "system"]
        self._index(facts)
        self._views: dict[str, ModelView] = {}
        self._model_obligations: dict[str, list[Obligation]] = {}
        self._system_views: dict[str, SystemView] = {}
        self._system_obligations: dict[str, list[Obligation]] = {}
        self._rank: dict[str, int] = {}
        self._actor_models: dict[str, set[str]] = {}  # actor → models it releases, owns or provides

    def _index(self, facts: ChainFacts) -> None:
        self.actors: dict[str, ActorFact] = dict(facts.actors)
        self.models: dict[str, ModelFact] = dict(facts.models)
        self.systems: dict[str, SystemFact] = dict(facts.systems)
        self.resale: tuple[ResaleFact, ...] | None = facts.resale
        self.parents: dict[str, dict[str, DerivationFact]] = {}
        self.children: dict[str, dict[str, None]] = {}
        self.offers: dict[str, dict[tuple[str, str, str], OfferFact]] = {}
        self.systems_by_model: dict[str, dict[str, None]] = {}
        self._actor_systems: dict[str, set[str]] = {}
        for drv in facts.derivations:
            self._add_derivation(drv)
        for offer in facts.offers:
            self.offers.setdefault(offer.model, {})[(offer.model, offer.by, offer.channel)] = offer
        for system in self.systems.values():
            self._link_system(system)

    def _link_system(self, system: SystemFact, *, unlink: bool = False) -> None:
        for model_id in system.models:
            if unlink:
                self.systems_by_model.get(model_id, {}).pop(system.id, None)
            else:
                self.systems_by_model.setdefault(model_id, {})[system.id] = None
        for actor in {system.provider, *system.deployers}:
            if unlink:
                self._actor_systems.get(actor, set()).discard(system.id)
            else:
                self._actor_systems.setdefault(actor, set()).add(system.id)

    def _add_derivation(self, drv: DerivationFact) -> None:
        self.parents.setdefault(drv.child, {})[drv.parent] = drv
        self.children.setdefault(drv.parent, {})[drv.child] = None

    # -- full evaluation ---------------------------------------------------------------------------------

    def evaluate(self) -> Evaluation:
        """Evaluate every model (parents first) and every system, filling the caches."""
        self._rank = {}
        for model_id in self._topological_order():
            parents = self.parents.get(model_id, {})
            self._rank[model_id] = 1 + max((self._rank[p] for p in parents if p in self._rank), default=-1)
            self._compute_model(model_id)
        for system_id in self.systems:
            self._compute_system(system_id)
        return self.evaluation()

    def evaluation(self) -> Evaluation:
        """The current result from the caches (models in document order, then systems)."""
        by_model = {m: self._model_obligations.get(m, []) for m in self.models}
        if self.sound:
            decided, covered = completions.decide(
                self.facts(),
                pack=self.pack,
                kleene=self._kleene,
                current=[o for v in by_model.values() for o in v],
                cache=self._decided,
            )
            for model_id in covered:
                by_model[model_id] = [o for o in decided if o.subject == model_id]
        obligations = [o for m in self.models for o in by_model[m]]
        obligations += [o for s in self.systems for o in self._system_obligations.get(s, ())]
        return Evaluation(
            regime=self.pack.regime,
            regime_version=self.pack.version,
            as_of=self.as_of,
            models=[self._views[m] for m in self.models if m in self._views],
            obligations=obligations,
        )

    def facts(self) -> ChainFacts:
        """The engine's current facts (after any ``update``)."""
        return ChainFacts.build(
            actors=list(self.actors.values()),
            models=list(self.models.values()),
            derivations=[d for parents in self.parents.values() for d in parents.values()],
            offers=[o for offers in self.offers.values() for o in offers.values()],
            systems=list(self.systems.values()),
            as_of=self.as_of,
            resale=self.resale,
        )

    def _kleene(self, facts: ChainFacts) -> list[Obligation]:
        """Kleene evaluation of one completion (no further completion: its compute facts are all known)."""
        engine = Engine(
            facts,
            regime=self.regime,
            as_of=self.as_of,
            evidence=self.evidence,
            rules=self._selected,
            sound=False,
        )
        return engine.evaluate().obligations

    def view(self, model_id: str) -> ModelView:
        """The classified view of one model (after ``evaluate``)."""
        return self._views[model_id]

    def _topological_order(self) -> list[str]:
        pending = {m: sum(1 for p in self.parents.get(m, {}) if p in self.models) for m in self.models}
        ready = [m for m, n in pending.items() if n == 0]
        order: list[str] = []
        while ready:
            model_id = ready.pop()
            order.append(model_id)
            for child in self.children.get(model_id, {}):
                if child in pending:
                    pending[child] -= 1
                    if pending[child] == 0:
                        ready.append(child)
        if len(order) != len(self.models):
            stuck = sorted(m for m, n in pending.items() if n > 0)[:5]
            raise ValidationError(f"lineage cycle through {', '.join(stuck)}")
        return order

    # -- one model / one system ---------------------------------------------------------------------------

    def _compute_model(self, model_id: str) -> ModelView:
        fact = self.models[model_id]
        edges = [(d, self._views[p]) for p, d in self.parents.get(model_id, {}).items() if p in self._views]
        systems = [self.systems[s] for s in self.systems_by_model.get(model_id, {}) if s in self.systems]
        view: ModelView = self.regime.module.classify_model(
            fact,
            edges=edges,
            offers=list(self.offers.get(model_id, {}).values()),
            systems=systems,
            actors=self.actors,
            pack=self.pack,
            resale=None if self.resale is None else [r for r in self.resale if r.model == model_id],
            as_of=self.as_of,
        )
        old = self._views.get(model_id)
        if old is not None:
            for actor in _actors_of(old):
                self._actor_models.get(actor, set()).discard(model_id)
        for actor in _actors_of(view):
            self._actor_models.setdefault(actor, set()).add(model_id)
        self._views[model_id] = view
        self._model_obligations[model_id] = self._obligations_of_model(view)
        return view

    def _obligations_of_model(self, view: ModelView) -> list[Obligation]:
        out = []
        for role in view.roles:
            for spec in self._model_specs:
                triggered, because = self.regime.rules[spec.id](view, role, self.actors, self.pack)
                decided = and3(role.decided, triggered)
                if decided is False:
                    continue
                scope = spec.modifier_scope if role.scope == "modification" else "full"
                out.append(
                    self._obligation(
                        spec,
                        role.actor,
                        view.fact.id,
                        scope,
                        decided,
                        (role.reason, *because),
                        view.placing_date,
                        is_model=True,
                    )
                )
        return out

    def _compute_system(self, system_id: str) -> None:
        fact = self.systems[system_id]
        source = self.systems.get(fact.modified_from) if fact.modified_from else None
        view: SystemView = self.regime.module.classify_system(fact, self.pack, source=source)
        self._system_views[system_id] = view
        out = []
        for spec in self._system_specs:
            for hit in self.regime.rules[spec.id](view, self.actors, self.pack):
                out.append(
                    self._obligation(
                        spec,
                        hit.actor,
                        system_id,
                        "full",
                        hit.decided,
                        hit.because,
                        view.fact.eu_market,
                        is_model=False,
                    )
                )
        self._system_obligations[system_id] = out

    def _obligation(
        self,
        spec: RuleSpec,
        actor: str,
        subject: str,
        scope: str,
        decided: Tri,
        because: tuple[str, ...],
        placing: date | None,
        *,
        is_model: bool,
    ) -> Obligation:
        applies, due = self._dates(spec, placing, is_model=is_model)
        key = (actor, subject, spec.id)
        if key in self.evidence:
            status = self.evidence[key]
        elif decided is None:
            status = "cannot decide"
        elif applies > self.as_of:
            status = "not yet applicable"
        else:
            status = "overdue" if due is not None and due < self.as_of else "open"
        return Obligation(
            actor,
            subject,
            spec.id,
            spec.citation,
            scope,
            applies,
            due,
            status,
            tuple(dict.fromkeys(b for b in because if b)),
        )

    def _dates(self, spec: RuleSpec, placing: date | None, *, is_model: bool) -> tuple[date, date | None]:
        """applies_from = max(rule date, placing date); Art. 111(3): older models comply by 2 Aug 2027."""
        applies = spec.effective if placing is None else max(spec.effective, placing)
        if is_model and placing is not None and placing < self.pack.dates["grandfathering_cutoff"]:
            return applies, self.pack.dates["grandfathering_deadline"]
        if spec.deadline_days is not None:
            return applies, applies + timedelta(days=spec.deadline_days)
        if spec.deadline_at_placing and placing is not None:
            return applies, placing
        return applies, None

    # -- incremental re-evaluation ------------------------------------------------------------------------

    def update(self, change: Change) -> Diff:
        """Apply added or replaced facts and re-evaluate only the models and systems they affect."""
        if not self._views and self.models:
            self.evaluate()
        before = self.evaluation().obligations if self.sound else []
        dirty_models, dirty_systems = self._apply(change)
        diff = Diff()
        for system_id in dirty_systems:
            before = self._system_obligations.get(system_id, [])
            self._compute_system(system_id)
            diff.record(before, self._system_obligations[system_id])
            diff.recomputed_systems += 1
        self._recompute_models(dirty_models, diff)
        if self.sound:  # unknown computes: the obligations are those decided over the completions
            diff.added, diff.removed, diff.changed = [], [], []
            diff.record(before, self.evaluation().obligations)
        return diff

    def _apply(self, change: Change) -> tuple[set[str], set[str]]:
        dirty_models: set[str] = set()
        dirty_systems: set[str] = set()
        for actor in change.actors:
            self.actors[actor.id] = actor
            dirty_models |= self._actor_models.get(actor.id, set())
            dirty_systems |= self._actor_systems.get(actor.id, set())
        for model in change.models:
            self.models[model.id] = model
            dirty_models.add(model.id)
        for drv in change.derivations:
            if self._reaches(drv.child, drv.parent):
                raise ValidationError(f"derivation {drv.parent} -> {drv.child} would close a lineage cycle")
            self._add_derivation(drv)
            dirty_models.add(drv.child)
        for offer in change.offers:
            self.offers.setdefault(offer.model, {})[(offer.model, offer.by, offer.channel)] = offer
            dirty_models.add(offer.model)
        for system in change.systems:
            old = self.systems.get(system.id)
            if old is not None:
                self._link_system(old, unlink=True)
                dirty_models.update(old.models)
            self.systems[system.id] = system
            self._link_system(system)
            dirty_models.update(system.models)
            dirty_systems.add(system.id)
            # Art. 25(2): systems made from this one read its provider and its exclusion of high-risk use.
            dirty_systems.update(s.id for s in self.systems.values() if s.modified_from == system.id)
        unknown = sorted(m for m in dirty_models if m not in self.models)
        if unknown:
            raise ValidationError(f"change refers to unknown model(s): {', '.join(unknown)}")
        for model_id in dirty_models:
            self._fix_rank(model_id)
        return dirty_models, dirty_systems

    def _reaches(self, start: str, target: str) -> bool:
        seen, stack = {start}, [start]
        while stack:
            node = stack.pop()
            if node == target:
                return True
            for child in self.children.get(node, {}):
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return False

    def _fix_rank(self, model_id: str) -> None:
        """Keep rank(parent) < rank(child) after added models or derivations (walks down only if needed)."""
        stack = [model_id]
        while stack:
            node = stack.pop()
            rank = 1 + max((self._rank.get(p, 0) for p in self.parents.get(node, {})), default=-1)
            current = self._rank.get(node)
            if current is not None and current >= rank:
                continue
            self._rank[node] = rank
            stack.extend(self.children.get(node, {}))

    def _recompute_models(self, dirty: set[str], diff: Diff) -> None:
        heap = [(self._rank[m], m) for m in dirty]
        heapq.heapify(heap)
        queued = set(dirty)
        while heap:
            _, model_id = heapq.heappop(heap)
            old_view = self._views.get(model_id)
            before = self._model_obligations.get(model_id, [])
            view = self._compute_model(model_id)
            diff.recomputed_models += 1
            diff.record(before, self._model_obligations[model_id])
            old_entry = model_entry(old_view) if old_view else None
            if old_entry != model_entry(view):
                diff.models.append((old_entry, model_entry(view)))
            if old_view is not None and old_view.lineage_key == view.lineage_key:
                continue  # early cut-off: children read nothing that changed
            for child in self.children.get(model_id, {}):
                if child not in queued and child in self.models:
                    queued.add(child)
                    heapq.heappush(heap, (self._rank[child], child))


def _actors_of(view: ModelView) -> set[str]:
    return {view.fact.releaser, view.fact.owner, *(r.actor for r in view.roles)}


def evaluate(
    facts: ChainFacts,
    *,
    regime: str = "eu-ai-act",
    as_of: date | None = None,
    evidence: Mapping[EvidenceKey, str] | None = None,
    rules: Iterable[str] | None = None,
) -> Evaluation:
    """Evaluate a whole chain once."""
    return Engine(facts, regime=regime, as_of=as_of, evidence=evidence, rules=rules).evaluate()
