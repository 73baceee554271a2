"""Chain manifest format 2 (format 1 still read): a YAML description of a value chain (see README).

Format 2 only adds optional fields (issue 13): Annex XI/XII and training-content fields on models, Art. 25
facts on systems, Art. 27 facts on actors, and a ``resale`` section of reseller agreements. A v1 document is
a valid v2 document with ``valuechain: 1``.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from valuechain.core.ids import SLUG
from valuechain.core.schema import InputModel

MODEL_REF = r"^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?/[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$"
VERSION_LABEL = r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$"
_COUNTRY = re.compile(r"^[A-Z]{2}$")

# EU member states (ISO 3166-1 alpha-2); "EL" is the EU's code for Greece.
EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "EL",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)

Slug = Annotated[str, Field(pattern=SLUG, description="Lower-case id: letters, digits, '.', '_', '-'.")]
ModelId = Annotated[str, Field(pattern=MODEL_REF, description="A model or system id: <actor>/<name>.")]
ModelRef = Annotated[
    str,
    Field(
        pattern=MODEL_REF[:-1] + r"(?:@[A-Za-z0-9][A-Za-z0-9._+-]{0,63})?$",
        description="A model as <actor>/<name>, optionally <actor>/<name>@<version> (extension).",
    ),
]


class Modality(StrEnum):
    text = "text"
    code = "code"
    audio = "audio"
    speech = "speech"
    image = "image"
    video = "video"
    other = "other"


class SyntheticOutput(StrEnum):
    text = "text"
    image = "image"
    audio = "audio"
    video = "video"


class LicenceTerm(StrEnum):
    non_commercial = "non-commercial"
    no_distribution = "no-distribution"
    user_threshold = "user-threshold"
    separate_commercial_licence = "separate-commercial-licence"


class Monetisation(StrEnum):
    paid_access = "paid_access"
    paid_support_required = "paid_support_required"
    ads = "ads"
    personal_data = "personal_data"
    dual_licence = "dual_licence"


class Relation(StrEnum):
    finetune = "finetune"
    adapter = "adapter"
    quantized = "quantized"
    merge = "merge"
    distilled = "distilled"
    continued_pretraining = "continued_pretraining"


class Channel(StrEnum):
    api = "api"
    open_weights = "open_weights"
    marketplace = "marketplace"
    white_label = "white_label"
    customer_specific = "customer_specific"
    software_sale = "software_sale"
    kit = "kit"


class AnnexIII(StrEnum):
    biometrics = "biometrics"
    critical_infrastructure = "critical_infrastructure"
    education = "education"
    employment = "employment"
    essential_services = "essential_services"
    law_enforcement = "law_enforcement"
    migration = "migration"
    justice_democracy = "justice_democracy"


# Annex III points by area (the number of each area, then its lettered points; area 2 has none).
ANNEX_III_POINTS: dict[str, tuple[str, ...]] = {
    "biometrics": ("1(a)", "1(b)", "1(c)"),
    "critical_infrastructure": ("2",),
    "education": ("3(a)", "3(b)", "3(c)", "3(d)"),
    "employment": ("4(a)", "4(b)"),
    "essential_services": ("5(a)", "5(b)", "5(c)", "5(d)"),
    "law_enforcement": ("6(a)", "6(b)", "6(c)", "6(d)", "6(e)"),
    "migration": ("7(a)", "7(b)", "7(c)", "7(d)"),
    "justice_democracy": ("8(a)", "8(b)"),
}
ANNEX_III_AREA = {point: area for area, points in ANNEX_III_POINTS.items() for point in points}


class AnnexIIIPoint(StrEnum):
    """A point of Annex III, e.g. 5(b) creditworthiness (Art. 27(1)); it implies its area."""

    p1_a = "1(a)"
    p1_b = "1(b)"
    p1_c = "1(c)"
    p2 = "2"
    p3_a = "3(a)"
    p3_b = "3(b)"
    p3_c = "3(c)"
    p3_d = "3(d)"
    p4_a = "4(a)"
    p4_b = "4(b)"
    p5_a = "5(a)"
    p5_b = "5(b)"
    p5_c = "5(c)"
    p5_d = "5(d)"
    p6_a = "6(a)"
    p6_b = "6(b)"
    p6_c = "6(c)"
    p6_d = "6(d)"
    p6_e = "6(e)"
    p7_a = "7(a)"
    p7_b = "7(b)"
    p7_c = "7(c)"
    p7_d = "7(d)"
    p8_a = "8(a)"
    p8_b = "8(b)"


class SystemChange(StrEnum):
    """How a system differs from the one it was made from (Art. 25(1)(a)-(c))."""

    rebrand = "rebrand"
    substantial_modification = "substantial_modification"
    intended_purpose = "intended_purpose"


class ResaleBrand(StrEnum):
    """Under whose name a reseller agreement lets the model be resold (Art. 3(3) "own name or trademark")."""

    own = "own"
    upstream = "upstream"


class _Strict(InputModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class ManifestActor(_Strict):
    """An organisation of the value chain."""

    id: Slug
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(description="ISO 3166-1 alpha-2 country of establishment, e.g. US, FR.")
    sme: bool = False
    microenterprise: bool = False
    public_body: bool | None = Field(
        default=None, description="Body governed by public law (Art. 27(1)); null = not recorded (format 2)."
    )
    public_service: bool | None = Field(
        default=None,
        description="Private entity providing public services (Art. 27(1)); null = not recorded (format 2).",
    )

    @field_validator("country")
    @classmethod
    def _country_code(cls, value: str) -> str:
        if not _COUNTRY.match(value):
            raise ValueError("must be an ISO 3166-1 alpha-2 code in capitals, e.g. US or FR")
        return value


class ModelFacts(_Strict):
    """The facts of a model that decide its obligations (shared by manifests and the REST API)."""

    description: str | None = Field(default=None, max_length=10_000, description="Free text (extension).")
    parameters: float | None = Field(default=None, ge=0, description="Parameter count.")
    training_compute_flop: float | None = Field(
        default=None, ge=0, description="Training compute in FLOP; null = unknown (then 6·N·D if possible)."
    )
    training_tokens: float | None = Field(default=None, ge=0, description="Training tokens (D).")
    training_data_summary: str | None = Field(default=None, max_length=20_000, description="(extension)")
    gpai: bool | None = Field(default=None, description="Override of the GPAI classification.")
    output_modalities: list[Modality] = Field(default_factory=list)
    licence: str = Field(default="proprietary", min_length=1, max_length=200, description="SPDX id or name.")
    licence_terms: list[LicenceTerm] = Field(default_factory=list)
    weights_public: bool = False
    architecture_public: bool = False
    usage_info_public: bool = False
    monetised: list[Monetisation] = Field(default_factory=list)
    eu_market: date | None = Field(default=None, description="Date first placed on the EU market.")
    eu_excluded: bool = Field(default=False, description="EU distribution and use clearly excluded.")
    designated_systemic_risk: bool = False
    eu_business_users: int = Field(default=0, ge=0, description="Registered business users in the EU.")

    def training_compute_estimate(self) -> tuple[float | None, str | None]:
        """Training compute and how it is known: ``given``, ``6ND`` estimate, or (None, None)."""
        if self.training_compute_flop is not None:
            return self.training_compute_flop, "given"
        if self.parameters is not None and self.training_tokens is not None:
            return 6 * self.parameters * self.training_tokens, "6ND"
        return None, None


class ModelDocumentation(_Strict):
    """Format 2: Annex XI/XII and training-content fields (issue 13); null = not recorded."""

    acceptable_use_policy: str | None = Field(
        default=None,
        max_length=20_000,
        description="Acceptable use policies (Annex XI 1(b), XII 1(b)).",
    )
    architecture: str | None = Field(
        default=None,
        max_length=20_000,
        description="Architecture (Annex XI 1(d), XII 1(f)).",
    )
    input_modalities: str | None = Field(
        default=None,
        max_length=20_000,
        description="Input modalities and format (Annex XI 1(e), XII 1(g)).",
    )
    interaction: str | None = Field(
        default=None,
        max_length=20_000,
        description="Interaction with hardware or software not part of the model (Annex XII 1(d)).",
    )
    software_versions: str | None = Field(
        default=None,
        max_length=20_000,
        description="Versions of relevant software (Annex XII 1(e)).",
    )
    integration_means: str | None = Field(
        default=None,
        max_length=20_000,
        description="Technical means for integration (Annex XI 2(a), XII 2(a)).",
    )
    design_specification: str | None = Field(
        default=None,
        max_length=20_000,
        description="Design specifications of the model and training process (Annex XI 2(b)).",
    )
    context_window: str | None = Field(
        default=None,
        max_length=20_000,
        description="Maximum input and output size, e.g. context window (Annex XII 2(b)).",
    )
    training_time: str | None = Field(
        default=None,
        max_length=20_000,
        description="Training time (Annex XI 2(d)).",
    )
    energy: str | None = Field(
        default=None,
        max_length=20_000,
        description="Known or estimated energy consumption (Annex XI 2(e)).",
    )
    evaluation_results: str | None = Field(
        default=None,
        max_length=20_000,
        description="Evaluation strategies and results (Annex XI section 2 point 1).",
    )
    adversarial_testing: str | None = Field(
        default=None,
        max_length=20_000,
        description="Adversarial testing and model adaptations (Annex XI section 2 point 2).",
    )
    system_architecture: str | None = Field(
        default=None,
        max_length=20_000,
        description="System architecture (Annex XI section 2 point 3).",
    )
    knowledge_cutoff: str | None = Field(
        default=None,
        max_length=20_000,
        description="Knowledge cut-off (training-content summary template section 1).",
    )
    crawled_domains: str | None = Field(
        default=None,
        max_length=20_000,
        description="Top domain names crawled (training-content summary template section 2).",
    )
    tdm_reservations: str | None = Field(
        default=None,
        max_length=20_000,
        description="How text-and-data-mining reservations were respected (Art. 4(3) Directive 2019/790).",
    )
    illegal_content_removal: str | None = Field(
        default=None,
        max_length=20_000,
        description="Measures to remove illegal content (training-content summary template section 3).",
    )
    modification_data: str | None = Field(
        default=None,
        max_length=20_000,
        description="Data used to modify another provider's model, where the derivation records no "
        "data_summary (recital 109, GL §3.2.1).",
    )


class ManifestModel(ModelFacts, ModelDocumentation):
    """A model of the manifest: its id, who releases it, and its facts."""

    id: ModelId
    released_by: Slug | None = Field(
        default=None, description="Actor placing it on the market; default owner."
    )
    version: str = Field(default="1", pattern=VERSION_LABEL, description="Version label (extension).")
    public: bool = Field(default=False, description="Registry visibility to other organisations (extension).")

    @property
    def owner(self) -> str:
        return self.id.split("/", 1)[0]

    @property
    def releaser(self) -> str:
        return self.released_by or self.owner


class ManifestDerivation(_Strict):
    """A lineage edge: ``child`` was made from ``parent`` by ``by``."""

    parent: ModelRef
    child: ModelRef
    by: Slug
    relation: Relation
    compute_flop: float | None = Field(default=None, ge=0)
    on_behalf_of: Slug | None = None
    data_summary: str | None = Field(default=None, max_length=20_000, description="(extension)")


class ManifestOffer(_Strict):
    """A model released through a channel."""

    model: ModelRef
    by: Slug
    channel: Channel
    brand: str | None = Field(default=None, max_length=200, description="Brand; default the offering actor.")
    eu: bool = True
    marketed_as: str | None = Field(
        default=None,
        max_length=200,
        description="The model name a white-label reseller markets it under (issue 11; `white_label` offers "
        "only): exported from and imported into the offer's white-label terms; left out on import, the "
        "recorded name stays.",
    )


class ManifestSystem(_Strict):
    """A downstream AI system integrating models."""

    id: ModelId
    provider: Slug
    deployers: list[Slug] = Field(default_factory=list)
    models: list[ModelRef] = Field(default_factory=list)
    intended_purpose: str = Field(default="", max_length=10_000)
    interacts_with_persons: bool = False
    synthetic_output: list[SyntheticOutput] = Field(default_factory=list)
    deep_fake: bool = False
    public_interest_text: bool = False
    annex_iii: list[AnnexIII] = Field(default_factory=list)
    eu_market: date | None = None
    # Format 2: the Annex III point where a rule turns on it (Art. 27(1): 5(b), 5(c)); issue 13.
    annex_iii_points: list[AnnexIIIPoint] = Field(
        default_factory=list,
        description="Annex III points, e.g. 5(b) creditworthiness or 5(c) life and health insurance "
        "pricing (Art. 27(1)); each implies its area (format 2).",
    )
    # Format 2: Art. 25 facts (issue 13).
    modified_from: ModelId | None = Field(
        default=None, description="The system this one was made from (Art. 25(1))."
    )
    changes: list[SystemChange] = Field(
        default_factory=list, description="rebrand, substantial_modification, intended_purpose (Art. 25(1))."
    )
    excludes_high_risk_use: bool = Field(
        default=False,
        description="The initial provider said it must not become high-risk (Art. 25(2) last sentence).",
    )


class ManifestResale(_Strict):
    """Format 2: a provider's agreement that a reseller resells its model (issue 11's white label).

    Listing the section (even empty) says the chain's agreements are all recorded, so a white-label offer
    no agreement covers is resold without authorisation; without it, agreements are unknown."""

    provider: Slug
    reseller: Slug
    model: ModelRef
    brand: ResaleBrand = Field(
        default=ResaleBrand.own,
        description="`own`: under the reseller's name or trademark; `upstream`: under the provider's name "
        "and the model's name.",
    )
    valid_from: date | None = Field(default=None, description="First day the agreement holds.")
    valid_until: date | None = Field(default=None, description="Last day the agreement holds.")
    revoked_on: date | None = Field(default=None, description="Day the provider revoked it.")
    agreement: str | None = Field(
        default=None, max_length=64, description="The registry agreement's id (agr_…); informative."
    )

    @model_validator(mode="after")
    def _period(self) -> ManifestResale:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError("valid_until is before valid_from")
        return self


class ChainManifest(_Strict):
    """The whole manifest document (format 2; format 1 documents are read unchanged)."""

    valuechain: Literal[1, 2]
    as_of: date | None = None
    actors: list[ManifestActor] = Field(default_factory=list)
    models: list[ManifestModel] = Field(default_factory=list)
    derivations: list[ManifestDerivation] = Field(default_factory=list)
    offers: list[ManifestOffer] = Field(default_factory=list)
    systems: list[ManifestSystem] = Field(default_factory=list)
    resale: list[ManifestResale] | None = Field(
        default=None,
        description="Format 2: reseller agreements (null: not recorded). Read by the engine; agreements in "
        "the registry are made with `valuechain reseller grant`, so an import leaves them out.",
    )

    @model_validator(mode="after")
    def _format_fields(self) -> ChainManifest:
        if self.valuechain == 1:
            used = v2_fields_used(self)
            if used:
                raise ValueError(f"{used[0]} needs `valuechain: 2` (a format-2 field)")
        return self


# Fields that only format 2 may carry: a format-1 document that sets one is refused (not silently read).
V2_FIELDS = {
    "actors": ("public_body", "public_service"),
    "models": tuple(ModelDocumentation.model_fields),
    "systems": ("modified_from", "changes", "excludes_high_risk_use", "annex_iii_points"),
}


def v2_fields_used(manifest: ChainManifest) -> list[str]:
    """``section[id].field`` for every format-2 field a document sets."""
    used = ["resale"] if manifest.resale is not None else []
    for section, names in V2_FIELDS.items():
        for record in getattr(manifest, section):
            used += [f"{section}[{record.id}].{n}" for n in names if n in record.model_fields_set]
    return used


def split_ref(ref: str) -> tuple[str, str | None]:
    """``org/name@v2`` → (``org/name``, ``v2``); no suffix → version None."""
    model, _, version = ref.partition("@")
    return model, (version or None)
