"""Admission's policy, unit by unit: caps, limits and their error shapes, holds, settlement and rate headers.

Collaborators are small in-test doubles (access, recorder, rules) and the real in-process limiter and
reservations; balances come from a real ledger table. End-to-end behaviour is in test_admission.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from valuechain.accounts.principal import Principal
from valuechain.accounts.roles import ROLE_SCOPES, Role
from valuechain.core.db import Base, Database
from valuechain.gateway.access import Caller, Route
from valuechain.gateway.admission import (
    Admission,
    _charge,
    _counters,
    _limit_error,
    _rate_headers,
)
from valuechain.gateway.errors import GatewayError
from valuechain.gateway.records import AdmissionRequest, Entry, Outcome, UsageRow
from valuechain.market.ledger import UsageCharge
from valuechain.market.limits import Counter, MemoryLimiter
from valuechain.market.models import LedgerAccount
from valuechain.market.reservations import MemoryReservations
from valuechain.market.terms import ApiTerms, Limits, LoggingPolicy, PricePlan
from valuechain.oversight.records import Subject

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def counter(name: str, kind: str, *, scope: str = "key", limit: int = 3, reset_s: float = 12.3) -> Counter:
    return Counter(f"{scope}:{name}", limit, 1, 60, kind, scope, name, reset_s)


# --- limit errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limited", "message", "code", "error_type", "headers"),
    [
        (
            counter("requests_per_minute", "requests", reset_s=12.3),
            "Rate limit reached for requests per minute (3) on this key; retry in 13 s",
            "rate_limit_exceeded",
            "rate_limit_error",
            {
                "retry-after": "13",
                "x-should-retry": "true",
                "x-ratelimit-limit-requests": "3",
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": "13s",
            },
        ),
        (  # a whole number of seconds is not rounded up once more
            counter("tokens_per_minute", "tokens", scope="org", limit=500, reset_s=12.0),
            "Rate limit reached for tokens per minute (500) on this org; retry in 12 s",
            "rate_limit_exceeded",
            "rate_limit_error",
            {
                "retry-after": "12",
                "x-should-retry": "true",
                "x-ratelimit-limit-tokens": "500",
                "x-ratelimit-remaining-tokens": "0",
                "x-ratelimit-reset-tokens": "12s",
            },
        ),
        (  # never "retry in 0 s"
            counter("requests_per_minute", "requests", reset_s=0.0),
            "Rate limit reached for requests per minute (3) on this key; retry in 1 s",
            "rate_limit_exceeded",
            "rate_limit_error",
            {
                "retry-after": "1",
                "x-should-retry": "true",
                "x-ratelimit-limit-requests": "3",
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": "1s",
            },
        ),
        (  # a concurrency slot frees when a request ends: retry in a second, whatever the window
            counter("concurrent_requests", "concurrent", limit=1, reset_s=30.0),
            "Rate limit reached for concurrent requests (1) on this key; retry in 1 s",
            "rate_limit_exceeded",
            "rate_limit_error",
            {"retry-after": "1", "x-should-retry": "true"},
        ),
        (
            counter("tokens_per_day", "tokens", scope="org", limit=60, reset_s=100.0),
            "You exceeded your tokens per day budget (60) on this org",
            "budget_exceeded",
            "insufficient_quota",
            {"retry-after": "100", "x-should-retry": "false"},
        ),
        (
            counter("tokens_per_month", "tokens", limit=70, reset_s=5.5),
            "You exceeded your tokens per month budget (70) on this key",
            "budget_exceeded",
            "insufficient_quota",
            {"retry-after": "6", "x-should-retry": "false"},
        ),
    ],
)
def test_limit_errors(
    limited: Counter, message: str, code: str, error_type: str, headers: dict[str, str]
) -> None:
    error = _limit_error(limited)
    assert (error.message, error.status_code, error.code, error.error_type) == (
        message,
        429,
        code,
        error_type,
    )
    assert error.headers == headers


# --- rate headers -----------------------------------------------------------------------------------------


def test_rate_headers_show_the_key_limits_before_the_org_limits() -> None:
    counters = [
        counter("requests_per_minute", "requests", limit=10, reset_s=41.6),
        counter("tokens_per_minute", "tokens", limit=100, reset_s=41.6),
        counter("requests_per_minute", "requests", scope="org", limit=1000),
        counter("tokens_per_minute", "tokens", scope="org", limit=9000),
    ]
    assert _rate_headers(counters, (3, 150, 7, 70), "req_1") == {
        "x-request-id": "req_1",
        "x-ratelimit-limit-requests": "10",
        "x-ratelimit-remaining-requests": "7",
        "x-ratelimit-reset-requests": "42s",
        "x-ratelimit-limit-tokens": "100",
        "x-ratelimit-remaining-tokens": "0",  # over the limit (after corrections): never negative
        "x-ratelimit-reset-tokens": "42s",
    }


def test_rate_headers_of_org_limits_and_of_no_limits() -> None:
    org = [
        counter("concurrent_requests", "concurrent", limit=4),  # no header describes it
        counter("requests_per_minute", "requests", scope="org", limit=1000, reset_s=9.2),
        counter("tokens_per_minute", "tokens", scope="org", limit=50, reset_s=9.2),
    ]
    assert _rate_headers(org, (1, 1000, 20), "req_2") == {
        "x-request-id": "req_2",
        "x-ratelimit-limit-requests": "1000",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "9s",
        "x-ratelimit-limit-tokens": "50",
        "x-ratelimit-remaining-tokens": "30",
        "x-ratelimit-reset-tokens": "9s",
    }
    assert _rate_headers([], (), "req_3") == {"x-request-id": "req_3"}


def test_rate_headers_of_a_key_limit_on_requests_and_an_org_limit_on_tokens() -> None:
    """Each header group shows the first limit of its kind: the key's, else the organisation's."""
    counters = [
        counter("requests_per_minute", "requests", limit=10, reset_s=3.0),
        counter("tokens_per_minute", "tokens", scope="org", limit=900, reset_s=3.0),
        counter("requests_per_minute", "requests", scope="throttle", limit=2, reset_s=3.0),
    ]
    headers = _rate_headers(counters, (1, 100, 1), "req_4")
    assert (headers["x-ratelimit-limit-requests"], headers["x-ratelimit-remaining-requests"]) == ("10", "9")
    assert (headers["x-ratelimit-limit-tokens"], headers["x-ratelimit-remaining-tokens"]) == ("900", "800")


# --- doubles ----------------------------------------------------------------------------------------------


def principal(*, key_id: str | None = "key_1", org_id: str = "org_buyer") -> Principal:
    return Principal(org_id, "buyer", key_id, None, Role.member, ROLE_SCOPES[Role.member])


def route(terms: ApiTerms | None = None, **kw: Any) -> Route:
    values: dict[str, Any] = {
        "model": "acme/m",
        "offer_id": "off_1",
        "version_id": "ver_1",
        "provider_org_id": "org_acme",
        "provider_slug": "acme",
        "terms": terms or ApiTerms(),
        "created": 0,
        "context_length": 4096,
        "wallet_account_id": "acc_wallet",
        "revenue_account_id": "acc_revenue",
    }
    return Route(**(values | kw))


class Access:
    def __init__(self, caller: Caller) -> None:
        self.callers = {"sk-good": caller}

    def caller(self, secret: str) -> Caller:
        return self.callers[secret]


class Recorder:
    def __init__(
        self, *, journaled: bool = True, fail: Exception | None = None, commit_after_s: float | None = 0.0
    ) -> None:
        self.entries: list[Entry] = []
        self.journaled = journaled
        self.fail = fail
        self.commit_after_s = commit_after_s  # None: the commit stays pending
        self.pending: dict[str, int] = {}
        self.in_flight: Any = None

    def submit(self, entry: Entry) -> tuple[asyncio.Future[None], bool]:
        if self.fail is not None:
            raise self.fail
        self.entries.append(entry)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        if self.commit_after_s == 0.0:
            future.set_result(None)
        elif self.commit_after_s is not None:
            loop.call_later(self.commit_after_s, future.set_result, None)
        return future, self.journaled

    def pending_charges(self, account_id: str | None) -> int:
        return self.pending.get(account_id or "", 0)


class Rules:
    def __init__(self, events: list[Any] | None = None) -> None:
        self.prompts: list[tuple[Subject, str]] = []
        self.outputs: list[tuple[Subject, str, str | None]] = []
        self.applied: list[tuple[list[Any], bool]] = []
        self.events = events or []

    def check_prompt(self, subject: Subject, text: str) -> None:
        self.prompts.append((subject, text))

    def check_output(self, subject: Subject, request_id: str, text: str | None) -> list[Any]:
        self.outputs.append((subject, request_id, text))
        return self.events

    def apply(self, events: list[Any], *, recorded: bool) -> None:
        self.applied.append((events, recorded))


@pytest.fixture
def ledger_db(tmp_path: Path) -> Iterator[Database]:
    """A database holding only the ledger's accounts: the balances admission loads."""
    db = Database(f"sqlite:///{tmp_path / 'ledger.db'}")
    tables = [Base.metadata.tables[name] for name in ("organizations", "ledger_accounts")]
    Base.metadata.create_all(db.engine, tables=tables)
    with db.unit_of_work() as session:
        session.add_all(
            [
                LedgerAccount(
                    id="acc_wallet", code="wallet:org_buyer", org_id=None, kind="wallet", balance=0
                ),
                LedgerAccount(id="acc_tokens", code="allowance:x", org_id=None, kind="allowance", balance=0),
            ]
        )
    yield db
    db.dispose()


def set_balance(db: Database, account_id: str, balance: int) -> None:
    with db.unit_of_work() as session:
        account = session.get(LedgerAccount, account_id)
        assert account is not None
        account.balance = balance


def admission(
    db: Database,
    the_route: Route,
    *,
    who: Principal | None = None,
    recorder: Recorder | None = None,
    rules: Rules | None = None,
) -> Admission:
    caller = Caller(who or principal(), {"acme/m": the_route})
    return Admission(
        db=db,
        access=Access(caller),  # type: ignore[arg-type]
        limiter=MemoryLimiter(),
        reservations=MemoryReservations(),
        recorder=recorder or Recorder(),  # type: ignore[arg-type]
        rules=rules or Rules(),  # type: ignore[arg-type]
    )


def ask(
    max_output: int | None = 16, *, prompt: int = 10, choices: int = 1, stream: bool = False
) -> AdmissionRequest:
    return AdmissionRequest(
        secret="sk-good",
        model="acme/m",
        endpoint="chat/completions",
        stream=stream,
        prompt_estimate=prompt,
        max_output=max_output,
        choices=choices,
        prompt_text="hello",
    )


PRICED = ApiTerms(plan=PricePlan(input_per_mtok=1_000_000, output_per_mtok=2_000_000), max_output_tokens=64)


# --- admit ------------------------------------------------------------------------------------------------


async def test_admit_reserves_the_maximum_cost_and_counts_the_request(ledger_db: Database) -> None:
    set_balance(ledger_db, "acc_wallet", 1000)
    rules = Rules()
    terms = PRICED.model_copy(update={"key_limits": Limits(requests_per_minute=5, tokens_per_minute=10_000)})
    gate = admission(ledger_db, route(terms), rules=rules)
    ticket = await gate.admit(ask(16, prompt=10, choices=2, stream=True))
    assert (ticket.endpoint, ticket.stream, ticket.prompt_estimate, ticket.max_output) == (
        "chat/completions",
        True,
        10,
        16,
    )
    assert ticket.token_estimate == 10 + 16 * 2
    assert ticket.hold == 10 * 1 + 32 * 2 and ticket.allowance_hold == 0
    assert ticket.request_id.startswith("req_") and ticket.headers["x-request-id"] == ticket.request_id
    assert ticket.headers["x-ratelimit-remaining-requests"] == "4"
    assert ticket.headers["x-ratelimit-remaining-tokens"] == str(10_000 - 42)
    assert [c.amount for c in ticket.counters] == [1, 42]
    assert await gate.reservations.held("org_buyer") == 74
    assert gate.in_flight == 1 and gate.recorder.in_flight() == 1
    await gate.admit(ask(16))
    assert gate.in_flight == 2 and gate.recorder.in_flight() == 2
    assert rules.prompts[0] == (Subject("org_buyer", "key_1", "org_acme"), "hello")
    assert len(rules.prompts) == 2


@pytest.mark.parametrize(
    ("max_tokens", "max_output_tokens", "context_length", "admitted"),
    [(None, 64, 4096, 64), (None, 64, 32, 32), (64, 64, 4096, 64), (32, 64, 32, 32)],
)
async def test_max_output_defaults_to_the_smaller_of_the_terms_cap_and_the_context(
    ledger_db: Database, max_tokens: int | None, max_output_tokens: int, context_length: int, admitted: int
) -> None:
    terms = ApiTerms(max_output_tokens=max_output_tokens)
    gate = admission(ledger_db, route(terms, context_length=context_length))
    ticket = await gate.admit(ask(max_tokens))
    assert ticket.max_output == admitted and ticket.hold == 0


@pytest.mark.parametrize(("max_output_tokens", "context_length", "cap"), [(64, 4096, 64), (4096, 48, 48)])
async def test_max_tokens_over_the_cap_is_a_400(
    ledger_db: Database, max_output_tokens: int, context_length: int, cap: int
) -> None:
    gate = admission(
        ledger_db, route(ApiTerms(max_output_tokens=max_output_tokens), context_length=context_length)
    )
    with pytest.raises(GatewayError) as raised:
        await gate.admit(ask(cap + 1))
    error = raised.value
    assert (error.status_code, error.code, error.param) == (400, "invalid_request", "max_tokens")
    assert error.message == f"max_tokens {cap + 1} exceeds this model's limit of {cap}"
    assert gate.in_flight == 0


async def test_a_limit_hit_is_refused_with_its_error(ledger_db: Database) -> None:
    terms = ApiTerms(org_limits=Limits(requests_per_minute=1))
    gate = admission(ledger_db, route(terms))
    await gate.admit(ask())
    with pytest.raises(GatewayError) as raised:
        await gate.admit(ask())
    assert raised.value.code == "rate_limit_exceeded"
    assert "requests per minute (1) on this org" in raised.value.message


async def test_a_balance_below_the_maximum_cost_is_refused_and_uncounted(ledger_db: Database) -> None:
    set_balance(ledger_db, "acc_wallet", 73)  # the maximum cost is 10 + 16 * 2 * 2 = 74
    terms = PRICED.model_copy(update={"key_limits": Limits(requests_per_minute=2, tokens_per_minute=100)})
    gate = admission(ledger_db, route(terms))
    with pytest.raises(GatewayError) as raised:
        await gate.admit(ask(16, choices=2))
    error = raised.value
    assert (error.status_code, error.code, error.error_type) == (
        429,
        "insufficient_quota",
        "insufficient_quota",
    )
    assert error.headers == {"x-should-retry": "false"}
    assert error.message == (
        "You exceeded your current quota: the balance does not cover this request's maximum cost "
        "(74 micro-EUR). Lower max_tokens or add credits."
    )
    assert gate.in_flight == 0
    # the refused request's counts were given back: two more requests of 42 tokens fit the minute
    await gate.reservations.invalidate("org_buyer")
    set_balance(ledger_db, "acc_wallet", 1000)
    for _ in range(2):
        await gate.admit(ask(16, choices=2))


async def test_the_hold_is_checked_against_the_balance_less_uncommitted_charges(ledger_db: Database) -> None:
    set_balance(ledger_db, "acc_wallet", 100)
    recorder = Recorder()
    recorder.pending["acc_wallet"] = 60
    gate = admission(ledger_db, route(PRICED), recorder=recorder)
    with pytest.raises(GatewayError, match="insufficient_quota|exceeded your current quota"):
        await gate.admit(ask(16))  # 42 > 100 - 60
    recorder.pending["acc_wallet"] = 58
    await gate.reservations.invalidate("org_buyer")
    assert (await gate.admit(ask(16))).hold == 42


async def test_a_hold_of_one_micro_unit_needs_one(ledger_db: Database) -> None:
    terms = ApiTerms(plan=PricePlan(output_per_mtok=1))  # 16 tokens cost 1 micro-unit, rounded up
    gate = admission(ledger_db, route(terms))
    with pytest.raises(GatewayError, match="exceeded your current quota"):
        await gate.admit(ask(16))
    set_balance(ledger_db, "acc_wallet", 1)
    await gate.reservations.invalidate("org_buyer")
    assert (await gate.admit(ask(16))).hold == 1


async def test_a_free_plan_holds_nothing_even_from_an_overdrawn_wallet(ledger_db: Database) -> None:
    set_balance(ledger_db, "acc_wallet", -5)
    gate = admission(ledger_db, route(ApiTerms(), allowance_account_id="acc_tokens"))
    ticket = await gate.admit(ask())
    assert (ticket.hold, ticket.allowance_hold) == (0, 0)
    assert await gate.reservations.held("org_buyer") == 0
    assert await gate.reservations.held("allowance:org_buyer:off_1") == 0


# --- included tokens --------------------------------------------------------------------------------------

SUBSCRIBED = ApiTerms(
    plan=PricePlan(input_per_mtok=1_000_000, output_per_mtok=1_000_000, included_tokens_monthly=1000)
)


async def test_included_tokens_cover_a_request_instead_of_money(ledger_db: Database) -> None:
    set_balance(ledger_db, "acc_tokens", 100)
    recorder = Recorder()
    gate = admission(
        ledger_db,
        route(SUBSCRIBED, allowance_account_id="acc_tokens", allowance_source_account_id="acc_source"),
        recorder=recorder,
    )
    ticket = await gate.admit(ask(16))  # 26 tokens
    assert (ticket.allowance_hold, ticket.hold) == (26, 0)
    assert await gate.reservations.held("allowance:org_buyer:off_1") == 26
    assert await gate.reservations.held("org_buyer") == 0
    await gate.settle(ticket, Outcome(prompt_tokens=10, completion_tokens=5))
    charge = recorder.entries[0].charge
    assert charge is not None
    assert (charge.payer_account_id, charge.payee_account_id, charge.amount) == (
        "acc_tokens",
        "acc_source",
        15,
    )
    assert recorder.entries[0].usage.cost == 0
    assert await gate.reservations.held("allowance:org_buyer:off_1") == 0
    # the allowance mirror moved by the 15 tokens used, not by the 26 held
    assert await gate.reservations.reserve("allowance:org_buyer:off_1", "probe", 85, load=_never)
    assert not await gate.reservations.reserve("allowance:org_buyer:off_1", "probe2", 1, load=_never)


async def test_one_included_token_covers_a_one_token_request(ledger_db: Database) -> None:
    set_balance(ledger_db, "acc_tokens", 1)
    recorder = Recorder()
    gate = admission(
        ledger_db,
        route(SUBSCRIBED, allowance_account_id="acc_tokens", allowance_source_account_id="acc_source"),
        recorder=recorder,
    )
    ticket = await gate.admit(ask(1, prompt=0))
    assert (ticket.allowance_hold, ticket.hold) == (1, 0)
    await gate.settle(ticket, Outcome(prompt_tokens=0, completion_tokens=1))
    charge = recorder.entries[0].charge
    assert charge is not None and (charge.payer_account_id, charge.amount) == ("acc_tokens", 1)


async def test_a_failed_recording_gives_the_included_tokens_back(ledger_db: Database) -> None:
    set_balance(ledger_db, "acc_tokens", 100)
    gate = admission(
        ledger_db,
        route(SUBSCRIBED, allowance_account_id="acc_tokens", allowance_source_account_id="acc_source"),
        recorder=Recorder(fail=OSError("disk full")),
    )
    ticket = await gate.admit(ask(16))
    with pytest.raises(OSError, match="disk full"):
        await gate.settle(ticket, Outcome(prompt_tokens=10, completion_tokens=5))
    allowance = "allowance:org_buyer:off_1"
    assert await gate.reservations.held(allowance) == 0
    assert await gate.reservations.reserve(allowance, "probe", 100, load=_never)


async def test_without_enough_included_tokens_the_wallet_pays(ledger_db: Database) -> None:
    set_balance(ledger_db, "acc_tokens", 100)
    set_balance(ledger_db, "acc_wallet", 1000)
    recorder = Recorder()
    recorder.pending["acc_tokens"] = 80  # 100 - 80 < 26
    gate = admission(ledger_db, route(SUBSCRIBED, allowance_account_id="acc_tokens"), recorder=recorder)
    ticket = await gate.admit(ask(16))
    assert (ticket.allowance_hold, ticket.hold) == (0, 26)
    assert await gate.reservations.held("org_buyer") == 26


async def test_a_subscription_without_an_allowance_account_pays_from_the_wallet(ledger_db: Database) -> None:
    set_balance(ledger_db, "acc_wallet", 1000)
    gate = admission(ledger_db, route(SUBSCRIBED))
    ticket = await gate.admit(ask(16))
    assert (ticket.allowance_hold, ticket.hold) == (0, 26)


# --- counters ---------------------------------------------------------------------------------------------


def _counters_of(who: Principal, the_route: Route, tokens: int) -> list[Counter]:
    return _counters(Caller(who, {}), the_route, tokens)


def test_counters_key_first_then_org_then_a_throttle_of_the_key() -> None:
    terms = ApiTerms(key_limits=Limits(requests_per_minute=5), org_limits=Limits(tokens_per_day=900))
    counters = _counters_of(principal(), route(terms, throttle_rpm=2), 40)
    assert [(c.scope, c.name, c.limit, c.amount) for c in counters] == [
        ("key", "requests_per_minute", 5, 1),
        ("org", "tokens_per_day", 900, 40),
        ("throttle", "requests_per_minute", 2, 1),
    ]
    assert counters[0].bucket.startswith("key:key_1:off_1:requests_per_minute:")
    assert counters[1].bucket.startswith("org:org_buyer:off_1:tokens_per_day:")
    assert counters[2].bucket.startswith("throttle:key_1:off_1:requests_per_minute:")


def test_counters_of_a_user_have_no_key_limits_and_throttle_the_org() -> None:
    terms = ApiTerms(key_limits=Limits(requests_per_minute=5), org_limits=Limits(requests_per_minute=50))
    counters = _counters_of(principal(key_id=None), route(terms, throttle_rpm=2), 40)
    assert [(c.scope, c.limit) for c in counters] == [("org", 50), ("throttle", 2)]
    assert counters[1].bucket.startswith("throttle:org_buyer:off_1:")
    assert _counters_of(principal(), route(ApiTerms()), 40) == []


# --- settle -----------------------------------------------------------------------------------------------


async def test_settle_bills_the_real_cost_and_releases_the_hold(ledger_db: Database) -> None:
    set_balance(ledger_db, "acc_wallet", 1000)
    recorder = Recorder()
    rules = Rules()
    terms = PRICED.model_copy(
        update={
            "key_limits": Limits(requests_per_minute=9, tokens_per_minute=1000, concurrent_requests=1),
            "logging": LoggingPolicy(mode="full"),
        }
    )
    gate = admission(ledger_db, route(terms), recorder=recorder, rules=rules)
    ticket = await gate.admit(ask(16))
    ticket.started = time.perf_counter() - 1000.0  # it ran 1,000 s
    commit = await gate.settle(
        ticket,
        Outcome(
            status=200,
            prompt_tokens=9,
            completion_tokens=3,
            request_body={"messages": [{"role": "user", "content": "hello"}]},
            response_text="Hi there",
        ),
    )
    assert commit is not None and commit.done()
    assert gate.in_flight == 0 and ticket.settled
    [entry] = recorder.entries
    usage = entry.usage
    assert usage == UsageRow(
        id=ticket.request_id,
        created_at=usage.created_at,
        org_id="org_buyer",
        key_id="key_1",
        provider_org_id="org_acme",
        offer_id="off_1",
        version_id="ver_1",
        model="acme/m",
        endpoint="chat/completions",
        stream=False,
        status=200,
        error_code=None,
        prompt_tokens=9,
        completion_tokens=3,
        latency_ms=usage.latency_ms,
        cost=9 + 3 * 2,
        currency="EUR",
    )
    assert 1_000_000 <= usage.latency_ms < 1_000_500
    assert entry.charge == UsageCharge(
        transaction_id=f"usage:{ticket.request_id}",
        org_id="org_buyer",
        payer_account_id="acc_wallet",
        payee_account_id="acc_revenue",
        amount=15,
        memo="chat/completions acme/m",
        created_at=usage.created_at,
    )
    log = entry.request_log
    assert log is not None and (log.mode, log.id, log.org_id) == ("full", ticket.request_id, "org_buyer")
    assert log.request_body == {"messages": [{"role": "user", "content": "hello"}]}
    assert log.response_body == {"text": "Hi there"}
    assert entry.events == []
    assert rules.outputs == [(Subject("org_buyer", "key_1", "org_acme"), ticket.request_id, "Hi there")]
    assert await gate.reservations.held("org_buyer") == 0
    # the mirror moved by the real cost (15), not by the hold (42): 985 left for the next holds
    assert await gate.reservations.reserve("org_buyer", "probe", 985, load=_never)
    assert not await gate.reservations.reserve("org_buyer", "probe2", 1, load=_never)
    await gate.reservations.settle("org_buyer", "probe", 0)
    # counters corrected: the concurrency slot is free and the minute holds the 12 tokens used
    second = await gate.admit(ask(16))
    assert second.headers["x-ratelimit-remaining-tokens"] == str(1000 - 12 - 26)
    assert second.headers["x-ratelimit-remaining-requests"] == "7"
    assert await gate.settle(ticket, Outcome()) is None  # settling twice does nothing
    assert gate.in_flight == 1 and len(recorder.entries) == 1


async def _never() -> int:
    raise AssertionError("the mirrored balance should not be reloaded")


async def test_concurrency_slots_are_given_back_one_per_request(ledger_db: Database) -> None:
    gate = admission(ledger_db, route(ApiTerms(org_limits=Limits(concurrent_requests=2))))
    first, _ = await gate.admit(ask()), await gate.admit(ask())
    await gate.settle(first, Outcome())
    await gate.admit(ask())
    with pytest.raises(GatewayError, match="concurrent requests"):
        await gate.admit(ask())


async def test_settle_of_a_journaled_entry_returns_before_its_commit(ledger_db: Database) -> None:
    recorder = Recorder(commit_after_s=None)
    gate = admission(ledger_db, route(ApiTerms()), recorder=recorder)
    ticket = await gate.admit(ask())
    commit = await asyncio.wait_for(gate.settle(ticket, Outcome()), 5)
    assert commit is not None and not commit.done()
    commit.set_result(None)


async def test_settle_of_an_unjournaled_entry_waits_for_its_commit(ledger_db: Database) -> None:
    recorder = Recorder(journaled=False, commit_after_s=0.01)
    gate = admission(ledger_db, route(ApiTerms(logging=LoggingPolicy(mode="off"))), recorder=recorder)
    ticket = await gate.admit(ask())
    commit = await gate.settle(ticket, Outcome(status=502, error_code="backend_error"))
    assert commit is not None and commit.done()
    usage = recorder.entries[0].usage
    assert (usage.status, usage.error_code, usage.cost) == (502, "backend_error", 0)
    assert recorder.entries[0].charge is None  # nothing to bill
    assert recorder.entries[0].request_log is None  # the offer logs nothing


async def test_a_failed_recording_bills_nothing_but_releases_the_hold_and_counters(
    ledger_db: Database,
) -> None:
    set_balance(ledger_db, "acc_wallet", 100)
    recorder = Recorder(fail=OSError("disk full"))
    terms = PRICED.model_copy(update={"key_limits": Limits(concurrent_requests=1)})
    gate = admission(ledger_db, route(terms), recorder=recorder)
    ticket = await gate.admit(ask(16))
    with pytest.raises(OSError, match="disk full"):
        await gate.settle(ticket, Outcome(prompt_tokens=9, completion_tokens=3))
    assert await gate.reservations.held("org_buyer") == 0
    # nothing was recorded, so the mirror keeps the whole balance, and the concurrency slot is free
    assert await gate.reservations.reserve("org_buyer", "probe", 100, load=_never)
    await gate.reservations.settle("org_buyer", "probe", 0)
    await gate.admit(ask(16))


async def test_misuse_events_are_applied_after_their_commit(ledger_db: Database) -> None:
    events = [object()]
    rules = Rules(events)
    recorder = Recorder(commit_after_s=0.01)
    gate = admission(ledger_db, route(ApiTerms()), recorder=recorder, rules=rules)
    ticket = await gate.admit(ask())
    commit = await gate.settle(ticket, Outcome(response_text="bad words"))
    assert commit is not None and commit.done()  # the actions waited for the events' commit
    assert recorder.entries[0].events == events
    assert rules.applied == [(events, True)]


# --- the ledger posting -----------------------------------------------------------------------------------


def _usage() -> UsageRow:
    return UsageRow("req_9", NOW, "org_buyer", "key_1", "org_acme", "off_1", "ver_1", "acme/m",
                    "embeddings", False, 200, None, 4, 0, 1.0, 7, "EUR")  # fmt: skip


def test_charge_from_the_wallet_or_from_the_included_tokens() -> None:
    the_route = route(allowance_account_id="acc_tokens", allowance_source_account_id="acc_source")
    money = _charge(_usage(), the_route, 7, covered=False)
    tokens = _charge(_usage(), the_route, 4, covered=True)
    assert money == UsageCharge(
        "usage:req_9", "org_buyer", "acc_wallet", "acc_revenue", 7, "embeddings acme/m", NOW
    )
    assert tokens == UsageCharge(
        "usage:req_9", "org_buyer", "acc_tokens", "acc_source", 4, "embeddings acme/m", NOW
    )
    assert _charge(_usage(), the_route, 1, covered=False) is not None


@pytest.mark.parametrize(
    ("amount", "accounts"),
    [
        (0, {}),
        (-3, {}),
        (5, {"wallet_account_id": None}),
        (5, {"revenue_account_id": None}),
    ],
)
def test_no_charge_without_an_amount_or_an_account(amount: int, accounts: dict[str, Any]) -> None:
    assert _charge(_usage(), route(**accounts), amount, covered=False) is None
