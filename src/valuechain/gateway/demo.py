"""Demo seeding of the API channel: an ``api`` offer of the bundled model with a free-credit plan."""

from __future__ import annotations

from valuechain.accounts.directory import org_id_for_slug
from valuechain.accounts.principal import system_principal
from valuechain.core.db import Database
from valuechain.market import service as market
from valuechain.market.terms import ApiTerms, FineTuningTerms, Limits, LoggingPolicy, PricePlan
from valuechain.runtime.service import bind_backend

DEMO_TERMS = ApiTerms(
    access="approval",
    plan=PricePlan(currency="EUR", free_credits=5_000_000, input_per_mtok=100_000, output_per_mtok=400_000),
    key_limits=Limits(requests_per_minute=600, concurrent_requests=16, tokens_per_minute=200_000),
    org_limits=Limits(tokens_per_day=5_000_000),
    logging=LoggingPolicy(mode="metadata", retention_days=30, redact_pii=True),
    max_output_tokens=512,
    # the developer may fine-tune the model on the provider's machines (issue 12): 1 EUR per million tokens
    fine_tuning=FineTuningTerms(trained_per_mtok=1_000_000),
)


# SmolLM2's model card recommends temperature 0.2 and top_p 0.9; OpenAI's default of 1.0 makes a 135M
# model ramble. Requests that set them explicitly are served as asked.
DEMO_BACKEND = {
    "served_name": "smollm2-135m-instruct",
    "sampling_defaults": {"temperature": 0.2, "top_p": 0.9},
}


def seed_gateway_demo(db: Database, *, provider_slug: str, developer: str, model: str) -> str:
    """Offer ``model`` through the API as ``provider_slug`` (idempotent); entitle ``developer`` only."""
    from valuechain.registry.schemas import OfferCreate
    from valuechain.registry.service import create_offer, find_offer, get_version

    with db.unit_of_work() as session:
        provider_id = org_id_for_slug(session, provider_slug)
        if provider_id is None:
            raise LookupError(f"the demo provider {provider_slug} is not seeded")
        principal = system_principal(org_id=provider_id, org_slug=provider_slug)
        version = get_version(session, model, "1", principal=principal)
        offer = find_offer(session, version_id=version.id, by_org_id=provider_id, channel="api")
        if offer is None:
            offer = create_offer(  # type: ignore[assignment]
                session,
                OfferCreate(model=f"{model}@1", channel="api"),  # type: ignore[arg-type]
                principal=principal,
            )
        if offer.terms.get("api") != DEMO_TERMS.model_dump(mode="json"):
            market.set_api_terms(session, offer.id, DEMO_TERMS, principal=principal)
        bind_backend(
            session,
            version_id=version.id,
            kind="embedded",
            config=DEMO_BACKEND,
            context_length=2048,
            principal=principal,
        )
        market.grant(session, offer.id, developer, principal=principal)
        return offer.id
