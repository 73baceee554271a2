"""Generated PDFs (issue 13 point 1): page numbers, the document hash, an approval block, the glossary of
abbreviations, and the modification's compute in a document limited to a modification (GL para 60,
recital 109). Checked on the text extracted from the PDF."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from tests.compliance.builders import AS_OF
from tests.conftest import auth, make_key
from valuechain.accounts.principal import system_principal
from valuechain.compliance.documentation import build_document
from valuechain.compliance.facts import facts_from_manifest
from valuechain.compliance.rendering import Approval, document_hash, render
from valuechain.core.db import Database
from valuechain.registry.chain import import_manifest
from valuechain.registry.check import load_manifest
from valuechain.registry.manifest import ModelDocumentation

CHAIN = Path(__file__).parent / "data" / "readme_chain.yaml"


def _text(pdf: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_pdf_has_page_numbers_hash_and_glossary() -> None:
    """Issue 13 point 1: every page numbered "Page i of n" and carrying the document's sha256 (the hash a
    sign-off covers); abbreviations used are expanded (GPAI, FLOP, AI Act ...), unused ones are not."""
    doc = build_document(facts_from_manifest(load_manifest(CHAIN)), "openlab/ol-7b", "annex-xi", as_of=AS_OF)
    text, pages = _text(render(doc, "pdf"))
    flat = _flat(text)
    assert pages >= 2
    for i in range(1, pages + 1):
        assert f"Page {i} of {pages}" in flat
    assert flat.count(f"sha256 {document_hash(doc)}") == pages
    assert "Not signed off." in flat
    assert "FLOP: floating-point operations" in flat
    md = render(doc, "md").decode()
    assert "GGUF" not in md and "GGUF:" not in flat  # only the abbreviations the document uses


def test_approval_block_names_the_signer_only_for_the_exact_document() -> None:
    """A sign-off covers one exact document (who, when, sha256); a later version reads "not signed off"."""
    doc = build_document(facts_from_manifest(load_manifest(CHAIN)), "openlab/ol-7b", "annex-xi", as_of=AS_OF)
    digest = document_hash(doc)
    signed = Approval("alice@openlab", "2026-11-01T10:00:00+00:00", digest, current=True)
    flat = _flat(_text(render(doc, "pdf", approval=signed))[0])
    assert "Signed off by alice@openlab on 2026-11-01 10:00:00 UTC" in flat
    assert "Not signed off" not in flat
    old = Approval("alice@openlab", "2026-10-01T10:00:00+00:00", "ef" * 32, current=False)
    flat = _flat(_text(render(doc, "pdf", approval=old))[0])
    assert "Not signed off: this version differs" in flat and "ef" * 32 in flat


def test_modification_document_shows_the_modifications_compute() -> None:
    """GL para 60, recital 109: a modifier's documentation is limited to the modification and shows its
    compute (5e22 FLOP in the README chain), not the original model's."""
    facts = facts_from_manifest(load_manifest(CHAIN))
    doc = build_document(facts, "tuner/ol-7b-legal", "annex-xii", as_of=AS_OF)
    assert doc.scope == "modification"
    flat = _flat(_text(render(doc, "pdf"))[0])
    assert "Compute used for the modification" in flat
    assert "5e22" in flat or "5.0e22" in flat or "5e+22" in flat, flat[-1500:]
    # Annex XI 2(d) "computational resources used for training": the modification's, not the cumulative
    xi = build_document(facts, "tuner/ol-7b-legal", "annex-xi", as_of=AS_OF)
    [compute] = [
        f for _, fields in xi.sections for f in fields if f.ref == "XI 2(d)" and "resources" in f.label
    ]
    assert (
        compute.value == "5e22 FLOP for the modification (cumulative with the modified model: 1.76e23 FLOP)"
    )


@pytest.fixture
def keys(client: TestClient, db: Database) -> dict[str, str]:
    with db.unit_of_work() as session:
        import_manifest(session, load_manifest(CHAIN), principal=system_principal())
    return {org: make_key(db, org, "admin") for org in ("openlab", "tuner")}


def test_served_pdf_carries_the_recorded_sign_off(client: TestClient, keys: dict[str, str]) -> None:
    """Art. 53(1)(a): the PDF served after a sign-off shows its signer and hash; changed facts make the
    document a new version, which the PDF shows as not signed off."""
    url = "/api/v1/models/openlab/ol-7b/docs/annex-xi"
    h = auth(keys["openlab"])
    missing = client.get(url, params={"format": "json"}, headers=h).json()["missing"]
    fields = {f["source"].removeprefix("models."): "recorded" for f in missing}
    fields = {k: v for k, v in fields.items() if k in ModelDocumentation.model_fields}
    assert (
        client.patch("/api/v1/models/openlab/ol-7b/documentation", json=fields, headers=h).status_code == 200
    )
    facts = {"description": "A 7B model.", "training_data_summary": "Public web text."}
    assert client.patch("/api/v1/models/openlab/ol-7b", json=facts, headers=h).status_code == 200
    r = client.post(f"{url}/sign-off", json={}, headers=h)
    assert r.status_code == 201, r.text
    flat = _flat(_text(client.get(url, params={"format": "pdf"}, headers=h).content)[0])
    assert f"Signed off by {r.json()['signed_by']}" in flat and r.json()["sha256"] in flat
    assert (
        client.patch("/api/v1/models/openlab/ol-7b", json={"description": "B"}, headers=h).status_code == 200
    )
    flat = _flat(_text(client.get(url, params={"format": "pdf"}, headers=h).content)[0])
    assert "Not signed off: this version differs" in flat
