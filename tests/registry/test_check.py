"""Manifest check messages: every problem with its line, field path and what is wrong."""

from __future__ import annotations

import textwrap

import pytest

from valuechain.registry.check import ManifestError, parse_manifest

HEAD = """\
valuechain: 1
actors:
  - {id: openlab, name: Open Lab, country: US}
  - {id: tuner, name: Tuner, country: DE, sme: true}
"""


def problems_of(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ManifestError) as info:
        parse_manifest(textwrap.dedent(text))
    return [(p.line, p.path, p.message) for p in info.value.problems]


@pytest.mark.parametrize(
    ("body", "line", "path", "message"),
    [
        ("models:\n  - id: openlab/m\n    colour: red\n", 7, "models[0].colour", "unknown field `colour`"),
        ("models:\n  - id: openlab/m\n    licence_terms: [bogus]\n", 7, "models[0].licence_terms[0]", "non-commercial"),
        ("models:\n  - id: openlab/m\n    parameters: -1\n", 7, "models[0].parameters", "greater than or equal to 0"),
        ("models:\n  - id: openlab/m\n    eu_market: someday\n", 7, "models[0].eu_market", "date"),
        ("models:\n  - id: Not A Ref\n", 6, "models[0].id", "pattern"),
        ("models:\n  - released_by: openlab\n", 6, "models[0].id", "missing required field `id`"),
        ("models:\n  - id: nobody/m\n", 6, "models[0].id", "unknown actor `nobody`"),
        ("models:\n  - id: openlab/m\n    released_by: ghost\n", 7, "models[0].released_by", "unknown actor `ghost`"),
        ("models:\n  - id: openlab/m\n  - id: openlab/m\n", 7, "models[1].id", "duplicate model id `openlab/m`"),
        ("derivations:\n  - {parent: openlab/x, child: tuner/y, by: tuner, relation: finetune}\n", 6,
         "derivations[0].parent", "unknown model `openlab/x`"),
        ("derivations:\n  - {parent: openlab/x, child: tuner/y, by: tuner, relation: rebrand}\n", 6,
         "derivations[0].relation", "finetune"),
        ("offers:\n  - {model: openlab/x, by: openlab, channel: carrier-pigeon}\n", 6, "offers[0].channel", "api"),
        ("models:\n  - id: openlab/m\noffers:\n  - {model: openlab/m, by: openlab, channel: api, marketed_as: m2}\n",
         8, "offers[0].marketed_as", "only a `white_label` offer is marketed under a reseller's name"),
        ("systems:\n  - id: tuner/s\n    provider: tuner\n    annex_iii: [astrology]\n", 8, "systems[0].annex_iii[0]",
         "biometrics"),
        ("systems:\n  - id: tuner/s\n    provider: tuner\n    deployers: [shop]\n", 8, "systems[0].deployers[0]",
         "unknown actor `shop`"),
    ],
)  # fmt: skip
def test_problem_is_reported_with_line_and_path(body: str, line: int, path: str, message: str) -> None:
    found = problems_of(HEAD + body)
    assert any(p == path and message in m and ln == line for ln, p, m in found), found


def test_every_problem_is_reported_not_just_the_first() -> None:
    found = problems_of(
        HEAD
        + "models:\n  - id: openlab/a\n    colour: red\n    parameters: x\n  - id: openlab/b\n    gpai: maybe\n"
    )
    assert [p for _, p, _ in found] == ["models[0].parameters", "models[0].colour", "models[1].gpai"]


def test_reference_problems_are_all_reported() -> None:
    found = problems_of(
        HEAD
        + "models:\n  - id: openlab/a\n  - id: tuner/b\n"
        + "derivations:\n  - {parent: openlab/a, child: tuner/b, by: ghost, relation: finetune}\n"
        + "  - {parent: tuner/b, child: openlab/a, by: openlab, relation: merge}\n"
        + "offers:\n  - {model: openlab/zzz, by: openlab, channel: api}\n"
    )
    messages = " | ".join(m for _, _, m in found)
    assert "unknown actor `ghost`" in messages
    assert "unknown model `openlab/zzz`" in messages
    assert "lineage cycle" in messages


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("valuechain: 3\n", "Input should be 1 or 2"),
        ("actors: []\n", "missing required field `valuechain`"),
        ("- just\n- a list\n", "a manifest is a mapping"),
        ("valuechain: 1\nactors: [\n", "not valid YAML"),
        ("valuechain: 1\nactors:\n  - {id: x, name: X, country: usa}\n", "ISO 3166-1 alpha-2"),
        (
            "valuechain: 1\nactors:\n  - {id: x, name: X, country: FR, microenterprise: true}\n",
            "a microenterprise is an SME",
        ),
    ],
)
def test_document_level_problems(text: str, message: str) -> None:
    assert any(message in m for _, _, m in problems_of(text))


def test_eu_exclusion_contradicted_by_own_eu_offer() -> None:
    found = problems_of(
        HEAD
        + "models:\n  - id: openlab/a\n    eu_excluded: true\noffers:\n  - {model: openlab/a, by: openlab, channel: api, eu: true}\n"
    )
    assert any("excludes the EU" in m for _, _, m in found)


def test_valid_manifest_parses() -> None:
    manifest = parse_manifest(
        HEAD + "models:\n  - id: openlab/a\n    parameters: 7.0e9\n    training_tokens: 1.0e12\n"
    )
    assert manifest.models[0].training_compute_estimate() == (6 * 7.0e9 * 1.0e12, "6ND")


def test_duplicate_keys_are_rejected_not_silently_merged() -> None:
    assert any(
        "duplicate" in m for _, _, m in problems_of(HEAD + "models:\n  - id: openlab/a\n    id: openlab/b\n")
    )


def test_yaml_1_2_keeps_country_codes_as_strings() -> None:
    manifest = parse_manifest("valuechain: 1\nactors:\n  - {id: fjord, name: Fjord AS, country: NO}\n")
    assert manifest.actors[0].country == "NO"


def test_aliases_are_capped_by_what_they_expand_to() -> None:
    """Shared values by alias stay allowed; nested aliases naming 9**5 nodes are refused (issue 17)."""
    shared = HEAD + "models:\n  - {id: openlab/a, output_modalities: &mods [text]}\n"
    shared += "  - {id: openlab/b, output_modalities: *mods}\n"
    assert [m.output_modalities for m in parse_manifest(shared).models][1] == ["text"]
    levels = ['x0: &x0 ["a","a","a","a","a","a","a","a","a"]']
    levels += [f"x{i}: &x{i} [" + ",".join([f"*x{i - 1}"] * 9) + "]" for i in range(1, 5)]
    bomb = HEAD + "\n".join(levels) + "\nmodels:\n  - {id: openlab/m, licence: *x4}\n"
    problems = problems_of(bomb)
    assert len(problems) == 1 and "alias" in problems[0][2], problems


def test_format_2_fields_need_format_2() -> None:
    """Issue 13: format 2 is additive; a format-1 document may not carry its fields, format 2 may."""
    v2 = "actors:\n  - {id: city, name: City, country: NL, public_body: true}\n"
    with pytest.raises(ManifestError) as info:
        parse_manifest("valuechain: 1\n" + v2)
    assert "needs `valuechain: 2`" in str(info.value)
    assert parse_manifest("valuechain: 2\n" + v2).actors[0].public_body is True


def test_annex_iii_points_are_format_2_and_known() -> None:
    """Art. 27(1) turns on Annex III points 5(b)-(c): format 2 records them; an unknown point is refused."""
    v2 = (
        "actors:\n  - {id: bank, name: Bank, country: IT}\n"
        "systems:\n  - {id: bank/score, provider: bank, annex_iii_points: [5(b)], eu_market: 2026-09-01}\n"
    )
    with pytest.raises(ManifestError) as info:
        parse_manifest("valuechain: 1\n" + v2)
    assert "systems[bank/score].annex_iii_points needs `valuechain: 2`" in str(info.value)
    assert [str(p) for p in parse_manifest("valuechain: 2\n" + v2).systems[0].annex_iii_points] == ["5(b)"]
    with pytest.raises(ManifestError):
        parse_manifest("valuechain: 2\n" + v2.replace("5(b)", "5(e)"))
    from valuechain.registry.manifest import ANNEX_III_AREA, AnnexIIIPoint

    assert {p.value for p in AnnexIIIPoint} == set(ANNEX_III_AREA)  # the enum and the area map agree
