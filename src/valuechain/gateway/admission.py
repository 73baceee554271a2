"""Admission and settlement of one /v1 request.

admit: caller (key) → route (entitlement, suspension) → oversight's misuse rules on the prompt → limits
(key and org, atomic) → hold of the maximum cost on the org's wallet (atomic). settle: usage record,
ledger entries, request log and misuse events journaled and queued for one commit together → hold
released to the real cost → token counters corrected; the commit itself follows the response.
``serving.Settlement`` is the one caller of ``settle``, on every exit path: success, backend error, timeout
and client disconnect (what was generated before it is billed).
"""

from __future__ import annotations

import asyncio
import time

from valuechain.core.clock import utcnow
from valuechain.core.db import Database
from valuechain.core.ids import new_id
from valuechain.core.observe import current_request_id
from valuechain.gateway.access import AccessResolver, Caller, Route
from valuechain.gateway.errors import GatewayError, bad_request
from valuechain.gateway.logs import build_log
from valuechain.gateway.recorder import UsageRecorder
from valuechain.gateway.records import AdmissionRequest, Entry, Outcome, Ticket, UsageRow
from valuechain.market.ledger import UsageCharge, account_balance, wallet_balance
from valuechain.market.limits import Counter, Limiter, counters_for
from valuechain.market.reservations import Reservations
from valuechain.market.terms import Limits
from valuechain.oversight.records import Subject
from valuechain.oversight.rules import RuleBook


class Admission:
    """The gateway's policy engine; one per process, held on ``app.state``."""

    def __init__(
        self,
        *,
        db: Database,
        access: AccessResolver,
        limiter: Limiter,
        reservations: Reservations,
        recorder: UsageRecorder,
        rules: RuleBook,
    ) -> None:
        self._db = db
        self.access = access
        self.limiter = limiter
        self.reservations = reservations
        self.recorder = recorder
        self.rules = rules
        self.in_flight = 0  # admitted, not yet settled
        self.holds = 0  # of those, the ones holding money or included tokens (a metric)
        recorder.in_flight = lambda: self.in_flight  # the writer batches what these will settle

    async def admit(self, request: AdmissionRequest) -> Ticket:
        """Authorise, limit and reserve; raises the core or gateway error with the right status otherwise."""
        caller = self.access.caller(request.secret)
        route = caller.route(request.model)
        terms = route.terms
        cap = min(terms.max_output_tokens, route.context_length)
        max_output = request.max_output
        if max_output is None:
            max_output = cap
        elif max_output > cap:
            raise bad_request(
                f"max_tokens {max_output} exceeds this model's limit of {cap}", param="max_tokens"
            )
        self.rules.check_prompt(_subject(caller, route), request.prompt_text)
        prompt_estimate, choices = request.prompt_estimate, request.choices
        tokens = prompt_estimate + max_output * choices
        counters = _counters(caller, route, tokens)
        result = await self.limiter.hit(counters)
        if result.failed is not None:
            raise _limit_error(result.failed)
        request_id = current_request_id() or new_id("req")  # the HTTP request's id (core.observe)
        hold = terms.plan.cost(prompt_estimate, max_output * choices)
        allowance = 0
        if terms.plan.included_tokens_monthly and await self._reserve_allowance(
            caller, route, request_id, tokens
        ):
            allowance, hold = tokens, 0  # covered by the subscription's included tokens
        if hold > 0 and not await self._reserve(caller, route, request_id, hold):
            await self.limiter.add([(c, -c.amount) for c in counters])
            raise GatewayError(
                "You exceeded your current quota: the balance does not cover this request's maximum cost "
                f"({hold} micro-{terms.plan.currency}). Lower max_tokens or add credits.",
                status_code=429,
                code="insufficient_quota",
                error_type="insufficient_quota",
                headers={"x-should-retry": "false"},
            )
        self.in_flight += 1
        if hold > 0 or allowance > 0:
            self.holds += 1
        headers = _rate_headers(counters, result.values, request_id)
        if route.notice_headers:  # a deprecated version: Deprecation, Sunset, Link (issue 11)
            headers.update(route.notice_headers)
        return Ticket(
            request_id=request_id,
            caller=caller,
            route=route,
            endpoint=request.endpoint,
            stream=request.stream,
            prompt_estimate=prompt_estimate,
            max_output=max_output,
            token_estimate=tokens,
            counters=counters,
            hold=hold,
            allowance_hold=allowance,
            started=time.perf_counter(),
            headers=headers,
        )

    async def _reserve(self, caller: Caller, route: Route, request_id: str, hold: int) -> bool:
        org_id = caller.principal.org_id

        async def load() -> int:
            with self._db.session() as session:
                pending = self.recorder.pending_charges(route.wallet_account_id)
                return wallet_balance(session, org_id) - pending

        return await self.reservations.reserve(org_id, request_id, hold, load=load)

    async def _reserve_allowance(self, caller: Caller, route: Route, request_id: str, tokens: int) -> bool:
        account_id = route.allowance_account_id
        if account_id is None:
            return False

        async def load() -> int:
            with self._db.session() as session:
                return account_balance(session, account_id) - self.recorder.pending_charges(account_id)

        key = _allowance_key(caller, route)
        return await self.reservations.reserve(key, request_id, tokens, load=load)

    async def settle(self, ticket: Ticket, outcome: Outcome) -> asyncio.Future[None] | None:
        """Journal the usage, release the hold and correct the counters (idempotent); returns the commit,
        for the caller to await after the response (None when already settled)."""
        if ticket.settled:
            return None
        ticket.settled = True
        self.in_flight -= 1
        if ticket.hold > 0 or ticket.allowance_hold > 0:
            self.holds -= 1
        route, p = ticket.route, ticket.caller.principal
        used = outcome.prompt_tokens + outcome.completion_tokens
        covered = ticket.allowance_hold > 0
        cost = 0 if covered else route.terms.plan.cost(outcome.prompt_tokens, outcome.completion_tokens)
        usage = UsageRow(
            id=ticket.request_id,
            created_at=utcnow(),
            org_id=p.org_id,
            key_id=p.key_id,
            provider_org_id=route.provider_org_id,
            offer_id=route.offer_id,
            version_id=route.version_id,
            model=route.model,
            endpoint=ticket.endpoint,
            stream=ticket.stream,
            status=outcome.status,
            error_code=outcome.error_code,
            prompt_tokens=outcome.prompt_tokens,
            completion_tokens=outcome.completion_tokens,
            latency_ms=(time.perf_counter() - ticket.started) * 1000.0,
            cost=cost,
            currency=route.terms.plan.currency,
        )
        billed = 0  # what the ledger will post; the hold's mirror is lowered by it once recorded
        try:  # whatever fails below, the hold and the counters are released (issue 17)
            charge = _charge(usage, route, used if covered else cost, covered=covered)
            events = self.rules.check_output(
                _subject(ticket.caller, route), ticket.request_id, outcome.response_text
            )
            entry = Entry(
                usage=usage,
                charge=charge,
                request_log=build_log(route.terms.logging, usage, outcome),
                events=events,
            )
            committed, journaled = self.recorder.submit(entry)
            if charge is not None:
                billed = charge.amount
            if not journaled:
                await committed
        finally:
            held_on = _allowance_key(ticket.caller, route) if covered else p.org_id
            await self.reservations.settle(held_on, ticket.request_id, billed)
            await self.limiter.add(
                [
                    (c, -1 if c.kind == "concurrent" else used - c.amount)
                    for c in ticket.counters
                    if c.kind != "requests"
                ]
            )
        if events:  # rare: the actions refer to the events, so these wait for their commit
            await committed
            self.rules.apply(events, recorded=True)
        return committed


def _counters(caller: Caller, route: Route, tokens: int) -> list[Counter]:
    """The key's limits, then the organisation's, then a provider's throttle (of the key, else the org)."""
    p, terms = caller.principal, route.terms
    scopes = [("key", p.key_id, terms.key_limits), ("org", p.org_id, terms.org_limits)]
    if route.throttle_rpm:
        throttle = Limits(requests_per_minute=route.throttle_rpm)
        scopes.append(("throttle", p.key_id or p.org_id, throttle))
    return [
        counter
        for scope, subject_id, limits in scopes
        if subject_id is not None  # a user's session has no key limits
        for counter in counters_for(
            limits, scope=scope, subject_id=subject_id, offer_id=route.offer_id, tokens=tokens
        )
    ]


def _subject(caller: Caller, route: Route) -> Subject:
    p = caller.principal
    return Subject(org_id=p.org_id, key_id=p.key_id, provider_org_id=route.provider_org_id)


def _charge(usage: UsageRow, route: Route, amount: int, *, covered: bool) -> UsageCharge | None:
    """The ledger posting of a request: included tokens from the allowance, else money from the wallet."""
    if amount <= 0:
        return None
    if covered:
        payer, payee = route.allowance_account_id, route.allowance_source_account_id
    else:
        payer, payee = route.wallet_account_id, route.revenue_account_id
    if payer is None or payee is None:
        return None
    splits: tuple[tuple[str, str, int], ...] = ()
    if route.resale is not None and not covered:  # white label: wholesale upstream, fee to the platform
        splits = route.resale.legs(payee, usage.prompt_tokens, usage.completion_tokens, amount)
    return UsageCharge(
        transaction_id=f"usage:{usage.id}",
        org_id=usage.org_id,
        payer_account_id=payer,
        payee_account_id=payee,
        amount=amount,
        memo=f"{usage.endpoint} {usage.model}",
        created_at=usage.created_at,
        splits=splits,
    )


def _allowance_key(caller: Caller, route: Route) -> str:
    return f"allowance:{caller.principal.org_id}:{route.offer_id}"


def _limit_error(counter: Counter) -> GatewayError:
    retry = max(1, int(counter.reset_s + 0.999)) if counter.kind != "concurrent" else 1
    is_budget = counter.name in ("tokens_per_day", "tokens_per_month")
    what = counter.name.replace("_", " ")
    message = (
        f"Rate limit reached for {what} ({counter.limit}) on this {counter.scope}; retry in {retry} s"
        if not is_budget
        else f"You exceeded your {what} budget ({counter.limit}) on this {counter.scope}"
    )
    headers = {"retry-after": str(retry), "x-should-retry": "false" if is_budget else "true"}
    unit = _HEADER_UNITS.get(counter.name)
    if unit is not None:
        headers.update(
            {
                f"x-ratelimit-limit-{unit}": str(counter.limit),
                f"x-ratelimit-remaining-{unit}": "0",
                f"x-ratelimit-reset-{unit}": f"{retry}s",
            }
        )
    return GatewayError(
        message,
        status_code=429,
        code="rate_limit_exceeded" if not is_budget else "budget_exceeded",
        error_type="rate_limit_error" if not is_budget else "insufficient_quota",
        headers=headers,
    )


# The limits that OpenAI's x-ratelimit-* headers describe, by the unit the headers name.
_HEADER_UNITS = {"requests_per_minute": "requests", "tokens_per_minute": "tokens"}


def _rate_headers(counters: list[Counter], values: tuple[int, ...], request_id: str) -> dict[str, str]:
    """OpenAI's rate-limit headers; the key's limit when it has one (its counters come first), else the
    organisation's."""
    headers = {"x-request-id": request_id}
    for c, v in zip(counters, values, strict=True):  # pragma: no mutate (one value per counter, always)
        unit = _HEADER_UNITS.get(c.name)
        if unit is None or f"x-ratelimit-limit-{unit}" in headers:
            continue
        headers.update(
            {
                f"x-ratelimit-limit-{unit}": str(c.limit),
                f"x-ratelimit-remaining-{unit}": str(max(0, c.limit - v)),
                f"x-ratelimit-reset-{unit}": f"{c.reset_s:.0f}s",
            }
        )
    return headers
