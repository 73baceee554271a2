"""Who may call which model: key → principal → entitled ``api`` offers → routes, cached briefly.

The hot path must not query the database per request, so a caller's resolved access is cached for
``ttl_s`` (2 s by default) keyed by the SHA-256 of the secret (the secret itself is never kept).
The cache is dropped after every commit in this process that changes keys, organisations, offers,
entitlements, suspensions, backends or ledger accounts (``Database.on_commit``), so a revocation takes
effect on the next request; other processes (replicas, the CLI) bump these tables' rows in
``table_versions`` in the same transaction, which every gateway polls (``invalidation.TableVersionWatch``,
every 20 ms), and with Redis configured the drop is published to the other gateways too.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from sqlalchemy.orm import Session

from valuechain.accounts.authz import key_reaches_offer
from valuechain.accounts.directory import slugs_for_ids
from valuechain.accounts.principal import Principal
from valuechain.accounts.roles import Scope
from valuechain.accounts.service import authenticate, key_use_is_stale, touch_key
from valuechain.core.db import Database
from valuechain.core.errors import AppError, AuthenticationError
from valuechain.gateway.errors import GatewayError
from valuechain.market import service as market
from valuechain.market.ledger import (
    FEES_CODE,
    account_ids,
    allowance_code,
    allowance_source_code,
    revenue_code,
    wallet_code,
)
from valuechain.market.terms import ApiTerms, parse_terms
from valuechain.oversight.service import active_suspensions
from valuechain.registry.service import ApiOfferRoute, api_offer_routes
from valuechain.runtime.service import context_lengths


@dataclass(frozen=True, slots=True)
class Route:
    """An entitled model: the offer that grants it, its terms and the backend that serves it."""

    model: str
    offer_id: str
    version_id: str
    provider_org_id: str
    provider_slug: str
    terms: ApiTerms
    created: int
    context_length: int
    wallet_account_id: str | None
    revenue_account_id: str | None
    throttle_rpm: int | None = None
    allowance_account_id: str | None = None
    allowance_source_account_id: str | None = None
    # issue 11: headers of a deprecated version (RFC 9745 ``Deprecation``, RFC 8594 ``Sunset``), its dates
    # for /v1/models, and the wholesale and fee legs of a white-label request
    notice_headers: tuple[tuple[str, str], ...] = ()
    deprecated_at: int | None = None
    sunset_at: int | None = None
    resale: Resale | None = None


@dataclass(frozen=True, slots=True)
class Resale:
    """What a white-label request pays on: wholesale to the upstream provider and the platform's fee."""

    upstream_account_id: str
    fees_account_id: str
    wholesale_input_per_mtok: int
    wholesale_output_per_mtok: int
    fee_bps: int

    def legs(self, payee: str, prompt_tokens: int, completion_tokens: int, price: int) -> tuple[Leg, ...]:
        """The reseller (``payee``) pays wholesale upstream and the fee on the customer price."""
        raw = (
            prompt_tokens * self.wholesale_input_per_mtok + completion_tokens * self.wholesale_output_per_mtok
        )
        wholesale = -(-raw // 1_000_000)
        fee = price * self.fee_bps // 10_000
        return ((payee, self.upstream_account_id, wholesale), (payee, self.fees_account_id, fee))


Leg = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class Caller:
    """A principal and what it may call; ``denied`` maps visible-but-forbidden models to the reason."""

    principal: Principal
    routes: dict[str, Route]
    denied: dict[str, str] = field(default_factory=dict)
    retired: dict[str, str] = field(default_factory=dict)  # model name → the 404's message (issue 11)

    def route(self, model: str) -> Route:
        """The route to ``model`` or the right error (404 unknown, 403 not entitled or suspended)."""
        found = self.routes.get(model)
        if found is not None:
            return found
        reason = self.denied.get(model)
        if reason is not None:
            raise GatewayError(reason, status_code=403, code="model_access_denied", param="model")
        gone = self.retired.get(model)
        if gone is not None:
            raise GatewayError(gone, status_code=404, code="model_not_found", param="model")
        raise GatewayError(
            f"the model `{model}` does not exist or you do not have access to it",
            status_code=404,
            code="model_not_found",
            param="model",
        )


# Tables whose committed changes can change what a key may call (names, not imports: the owners' tables).
ACCESS_TABLES = frozenset(
    {
        "api_keys",
        "organizations",
        "offers",
        "models",
        "model_versions",
        "runtime_backends",
        "market_entitlements",
        "ledger_accounts",
        "oversight_suspensions",
        "registry_agreements",  # a revoked reseller agreement stops its white-label offers (issue 11)
    }
)


class AccessResolver:
    """Resolves secrets to callers against the database, with a short cache dropped after commits."""

    def __init__(
        self,
        db: Database,
        *,
        ttl_s: float = 2.0,
        max_cached: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._ttl_s = ttl_s
        self._max_cached = max_cached
        self._clock = clock
        self._cache: dict[str, tuple[float, int, Caller | AppError]] = {}
        self.generation = 0
        self.on_invalidate: list[Callable[[], None]] = []  # e.g. publish to the other processes
        self.close = db.on_commit(self._after_commit)

    def _after_commit(self, tables: frozenset[str]) -> None:
        if tables & ACCESS_TABLES:
            self.invalidate()
            for hook in self.on_invalidate:
                hook()

    def invalidate(self) -> None:
        """Forget every cached caller (after a revocation, suspension or entitlement change)."""
        self.generation += 1
        self._cache.clear()

    def caller(self, secret: str) -> Caller:
        """The caller behind ``secret``; raises the 401/403 the gateway answers."""
        digest = hashlib.sha256(secret.encode()).hexdigest()
        now = self._clock()
        hit = self._cache.get(digest)
        if hit is not None and hit[0] > now and hit[1] == self.generation:
            if isinstance(hit[2], AppError):
                raise hit[2]
            return hit[2]
        generation = self.generation
        try:
            with self._db.session() as session:
                caller = resolve_caller(session, secret)
                key_id = caller.principal.key_id
                stale = key_id is not None and key_use_is_stale(session, key_id)
            if stale:  # last-used time, at most once a minute per key (a cache miss is rarer still)
                with self._db.unit_of_work() as session:
                    touch_key(session, key_id)  # type: ignore[arg-type]
            result: Caller | AppError = caller
        except (AuthenticationError, GatewayError) as exc:
            result = exc
        if len(self._cache) >= self._max_cached:
            self._cache.clear()
        self._cache[digest] = (now + self._ttl_s, generation, result)
        if isinstance(result, AppError):
            raise result
        return result


def resolve_caller(session: Session, secret: str) -> Caller:
    """Authenticate and collect the caller's routes (one query per table, no per-offer queries)."""
    principal = authenticate(session, secret)
    if not principal.can(Scope.inference):
        raise GatewayError(
            f"this key (role {principal.role.value}) lacks the `inference` scope",
            status_code=403,
            code="insufficient_scope",
        )
    return caller_for(session, principal)


def caller_for(session: Session, principal: Principal) -> Caller:
    """The routes of an authenticated principal (the fine-tuning service asks which bases it may tune)."""
    offers = api_offer_routes(session)
    entitlements = market.entitlement_statuses(session, principal.org_id)
    suspensions = active_suspensions(session, org_id=principal.org_id, key_id=principal.key_id)
    contexts = context_lengths(session)
    accounts = _accounts(session, principal.org_id, offers)
    slugs = slugs_for_ids(session, {o.by_org_id for o in offers})
    routes: dict[str, Route] = {}
    denied: dict[str, str] = {}
    retired: dict[str, str] = {}
    for offer in offers:
        if not key_reaches_offer(principal, offer.offer_id):
            continue  # a reseller's customer key: any other offer is as invisible as a missing one
        names = route_names(offer)
        status = entitlements.get(offer.offer_id)
        suspension = suspensions.get(offer.by_org_id)
        visible = (
            offer.model_visibility == "public"
            or status is not None
            or offer.model_owner_org_id == principal.org_id
        )
        reason = (suspension.denial if suspension else None) or market.denial(status, offer.offer_id)
        if reason is not None:
            if visible:
                denied.update(dict.fromkeys(names, reason))
            continue
        resale = _resale(offer, accounts)
        if offer.channel == "white_label" and resale is None:
            continue  # served only once the channels domain set its reseller terms (issue 11)
        stopped = _resale_stopped(offer)
        if stopped is not None:
            if visible:
                denied.update(dict.fromkeys(names, stopped))
            continue
        if offer.stage == "retired":
            if visible:
                retired.update(dict.fromkeys(names, _retired_message(names[1], offer.successor)))
            continue
        route = Route(
            model=offer.model_slug,
            offer_id=offer.offer_id,
            version_id=offer.version_id,
            provider_org_id=offer.by_org_id,
            provider_slug=slugs[offer.by_org_id],
            terms=parse_terms(offer.terms),
            created=int(offer.created_at.timestamp()),
            context_length=contexts.get(offer.version_id, 2048),
            wallet_account_id=accounts.get(wallet_code(principal.org_id)),
            revenue_account_id=accounts.get(revenue_code(offer.by_org_id)),
            throttle_rpm=suspension.throttle_rpm if suspension is not None else None,
            allowance_account_id=accounts.get(allowance_code(principal.org_id, offer.offer_id)),
            allowance_source_account_id=accounts.get(allowance_source_code(offer.by_org_id)),
            notice_headers=notice_headers(offer),
            deprecated_at=_epoch(offer.deprecated_at if offer.stage == "deprecated" else None),
            sunset_at=_epoch(offer.sunset_at if offer.stage == "deprecated" else None),
            resale=resale,
        )
        routes.update(dict.fromkeys(names, route))
        for name in names:
            denied.pop(name, None)
            retired.pop(name, None)
    return Caller(principal=principal, routes=routes, denied=denied, retired=retired)


def route_names(offer: ApiOfferRoute) -> tuple[str, str]:
    """The names a caller uses: the model's slug, or a white-label offer's own name (the reseller's
    brand), each also with ``@version``."""
    name = offer.model_slug
    if offer.channel == "white_label":
        name = str(_white_label(offer).get("model_name") or name)
    return name, f"{name}@{offer.version_label}"


def _white_label(offer: ApiOfferRoute) -> dict[str, Any]:
    section = (offer.terms or {}).get("white_label")
    return section if isinstance(section, dict) else {}


def _resale_stopped(offer: ApiOfferRoute) -> str | None:
    """The 403 of a white-label offer whose reseller agreement was revoked or has expired, else None."""
    if offer.channel != "white_label":
        return None
    wl = _white_label(offer)
    agreement, expires = wl.get("agreement_id"), wl.get("expires_at")
    if offer.agreement_revoked_at is not None:
        at = offer.agreement_revoked_at.astimezone(UTC).isoformat()
        return (
            f"the reseller agreement {agreement} behind `{wl.get('model_name')}` was revoked by the "
            f"provider at {at}; this model is no longer offered"
        )
    if expires and datetime.fromisoformat(str(expires)) <= datetime.now(UTC):
        return (
            f"the reseller agreement {agreement} behind `{wl.get('model_name')}` expired at {expires}; "
            "this model is no longer offered"
        )
    return None


def _resale(offer: ApiOfferRoute, accounts: dict[str, str]) -> Resale | None:
    """The wholesale and fee legs of a white-label offer; None for another channel, or for a white-label
    offer without reseller terms or ledger accounts (then it is not served: never without its legs)."""
    if offer.channel != "white_label":
        return None
    wl = _white_label(offer)
    if not wl.get("agreement_id"):
        return None
    upstream = accounts.get(revenue_code(str(wl.get("upstream_org_id", ""))))
    fees = accounts.get(FEES_CODE)
    if upstream is None or fees is None:
        return None
    return Resale(
        upstream_account_id=upstream,
        fees_account_id=fees,
        wholesale_input_per_mtok=int(wl.get("wholesale_input_per_mtok", 0)),
        wholesale_output_per_mtok=int(wl.get("wholesale_output_per_mtok", 0)),
        fee_bps=int(wl.get("fee_bps", 0)),
    )


def notice_headers(offer: ApiOfferRoute) -> tuple[tuple[str, str], ...]:
    """``Deprecation: @<epoch>`` (RFC 9745, a structured-field date) and ``Sunset: <HTTP-date>``
    (RFC 8594) for a deprecated version, plus a ``Link`` to its successor; none otherwise."""
    if offer.stage != "deprecated" or offer.deprecated_at is None:
        return ()
    headers = [("deprecation", f"@{int(offer.deprecated_at.timestamp())}")]
    if offer.sunset_at is not None:
        headers.append(("sunset", format_datetime(offer.sunset_at.astimezone(UTC), usegmt=True)))
    if offer.successor:
        headers.append(("link", f'<{offer.successor}>; rel="successor-version"'))
    return tuple(headers)


def _retired_message(name: str, successor: str | None) -> str:
    after = f"; use its successor `{successor}`" if successor else ""
    return f"the model `{name}` was retired{after}"


def _epoch(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def _accounts(session: Session, org_id: str, offers: list[ApiOfferRoute]) -> dict[str, str]:
    codes = [wallet_code(org_id), FEES_CODE]
    for offer in offers:
        if offer.channel == "white_label":
            codes.append(revenue_code(str(_white_label(offer).get("upstream_org_id", ""))))
        codes += [
            revenue_code(offer.by_org_id),
            allowance_code(org_id, offer.offer_id),
            allowance_source_code(offer.by_org_id),
        ]
    return account_ids(session, codes)
