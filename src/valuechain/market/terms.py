"""Terms of an ``api`` offer (stored in ``Offer.terms``): access, price plan, limits, logging policy.

Money is in integer micro-units of the plan's currency (1 EUR = 1_000_000); prices are per million tokens.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from valuechain.core.schema import InputModel

MICROS = 1_000_000


class PricePlan(InputModel):
    """Free credits, per-token prices and an optional monthly subscription with included tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: str = Field(default="EUR", description="ISO 4217 code of every amount in this plan.")
    free_credits: int = Field(
        default=0, ge=0, description="Credits granted once on entitlement (micro-units)."
    )
    input_per_mtok: int = Field(default=0, ge=0, description="Price per million input tokens (micro-units).")
    output_per_mtok: int = Field(
        default=0, ge=0, description="Price per million output tokens (micro-units)."
    )
    subscription_monthly: int = Field(default=0, ge=0, description="Monthly fee (micro-units); 0 = none.")
    included_tokens_monthly: int = Field(
        default=0,
        ge=0,
        description="Tokens per calendar month covered by the subscription before prices apply.",
    )

    def cost(self, prompt_tokens: int, completion_tokens: int) -> int:
        """Cost of a request in micro-units, rounded up (never bill a fraction down to zero)."""
        raw = prompt_tokens * self.input_per_mtok + completion_tokens * self.output_per_mtok
        return -(-raw // MICROS)


class Limits(InputModel):
    """Rate limits and budgets; ``None`` means unlimited."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requests_per_minute: int | None = Field(default=None, ge=1)
    tokens_per_minute: int | None = Field(default=None, ge=1)
    concurrent_requests: int | None = Field(default=None, ge=1)
    tokens_per_day: int | None = Field(default=None, ge=1)
    tokens_per_month: int | None = Field(default=None, ge=1)


class LoggingPolicy(InputModel):
    """What the gateway keeps of each request."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["off", "metadata", "full"] = Field(
        default="metadata", description="off: nothing; metadata: sizes, status, timing; full: also bodies."
    )
    retention_days: int = Field(default=30, ge=1, le=3650, description="Logs older than this are deleted.")
    redact_pii: bool = Field(default=True, description="Mask e-mail addresses and phone numbers in bodies.")


class FineTuningTerms(InputModel):
    """Fine-tuning of an ``api`` offer's model on the provider's machines (issue 12); absent = not offered."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trained_per_mtok: int = Field(
        default=0,
        ge=0,
        description="Price per million trained tokens (tokens processed × epochs, micro-units).",
    )
    max_trained_tokens: int = Field(
        default=5_000_000, ge=1, description="Largest job, in trained tokens (its upper estimate)."
    )

    def cost(self, trained_tokens: int) -> int:
        """Cost of training ``trained_tokens`` in micro-units, rounded up."""
        return -(-(trained_tokens * self.trained_per_mtok) // MICROS)


class ApiTerms(InputModel):
    """Everything that governs access to an ``api`` offer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    access: Literal["open", "approval"] = Field(
        default="open",
        description="open: any org may subscribe; approval: a waitlist the provider works through.",
    )
    plan: PricePlan = Field(default_factory=PricePlan)
    key_limits: Limits = Field(default_factory=Limits, description="Limits per API key.")
    org_limits: Limits = Field(default_factory=Limits, description="Limits per organisation.")
    logging: LoggingPolicy = Field(default_factory=LoggingPolicy)
    max_output_tokens: int = Field(
        default=1024, ge=1, description="Largest max_tokens a request may ask for."
    )
    fine_tuning: FineTuningTerms | None = Field(
        default=None, description="Entitled organisations may fine-tune the model under these terms."
    )


def parse_terms(raw: dict[str, object] | None) -> ApiTerms:
    """Terms of an offer; the ``api`` key of ``Offer.terms`` (other channels keep their own keys), or the
    customer terms a ``white_label`` offer holds under ``white_label.api`` (issue 11)."""
    data = (raw or {}).get("api") if raw else None
    if data is None and raw and isinstance(raw.get("white_label"), dict):
        data = raw["white_label"].get("api")  # type: ignore[union-attr]
    return ApiTerms.model_validate(data or {})
