"""The settlement journal: entries survive the process, segments are locked to their process, files are
reclaimed once their entries are committed."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from valuechain.gateway import journal as journal_module
from valuechain.gateway.journal import Journal
from valuechain.gateway.records import Entry, RequestLogRow, UsageRow
from valuechain.market.ledger import UsageCharge
from valuechain.oversight.records import MisuseEventRecord

NOW = datetime(2026, 11, 29, 12, 0, 0, 123456, tzinfo=UTC)


def entry(n: int = 1) -> Entry:
    usage = UsageRow(
        id=f"req_{n}",
        created_at=NOW,
        org_id="org_a",
        key_id=None,
        provider_org_id="org_p",
        offer_id="off_1",
        version_id="ver_1",
        model="acme/tiny",
        endpoint="chat",
        stream=False,
        status=200,
        error_code=None,
        prompt_tokens=12,
        completion_tokens=3,
        latency_ms=1.5,
        cost=42,
        currency="EUR",
    )
    return Entry(
        usage=usage,
        charge=UsageCharge(
            transaction_id=f"usage:req_{n}",
            org_id="org_a",
            payer_account_id="acc_w",
            payee_account_id="acc_r",
            amount=42,
            memo="chat acme/tiny",
            created_at=NOW,
        ),
        request_log=RequestLogRow(
            id=f"req_{n}",
            created_at=NOW,
            expires_at=NOW + timedelta(days=7),
            org_id="org_a",
            provider_org_id="org_p",
            key_id="key_1",
            offer_id="off_1",
            mode="full",
            meta={"status": 200},
            request_body={"messages": [{"role": "user", "content": "héllo\n"}]},
            response_body="hi",
        ),
        events=[
            MisuseEventRecord(
                id=f"mev_{n}",
                created_at=NOW,
                provider_org_id="org_p",
                rule_id="rul_1",
                rule_name="no secrets",
                org_id="org_a",
                key_id=None,
                request_id=f"req_{n}",
                action="flag",
                scope="key",
                throttle_rpm=None,
                match="password",
            )
        ],
    )


def crash(journal: Journal) -> None:
    """What a killed process leaves: its files, unlocked (the kernel drops the locks with the process)."""
    for segment in journal._segments.values():
        if segment.map is not None:
            segment.map.close()
        os.close(segment.fd)
    journal._segments.clear()


def test_an_entry_reads_back_equal_after_the_process_is_gone(tmp_path: Path) -> None:
    first = Journal(tmp_path)
    first.append(entry(1))
    first.append(entry(2))
    crash(first)
    found = list(Journal(tmp_path).orphans())
    assert len(found) == 1
    segment, entries = found[0]
    assert entries == [entry(1), entry(2)]
    assert segment.pending == 2


def test_a_live_journal_is_not_taken_by_another(tmp_path: Path) -> None:
    live = Journal(tmp_path)
    live.append(entry())
    assert list(Journal(tmp_path).orphans()) == []
    live.close()


def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    first = Journal(tmp_path)
    segment = first.append(entry(1))
    torn = b'{"usage": {"id": "req_torn"'  # the process died inside this copy
    assert segment.map is not None
    segment.map[segment.size : segment.size + len(torn)] = torn
    crash(first)
    [(_, entries)] = list(Journal(tmp_path).orphans())
    assert [e.usage.id for e in entries] == ["req_1"]


def test_committed_segments_are_reclaimed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_module, "SEGMENT_BYTES", 4000)
    monkeypatch.setattr(journal_module, "RECYCLE_BYTES", 1)
    j = Journal(tmp_path)
    written = [j.append(entry(n)) for n in range(6)]  # each line is over 1 KB: rolls every few entries
    assert len({s.path for s in written}) > 1
    assert j.pending == 6
    for segment in written:
        j.committed(segment)
    assert j.pending == 0
    [left] = list(tmp_path.glob("settle-*.jsonl"))  # every written segment deleted, a fresh one current
    assert left not in {s.path for s in written} and set(left.read_bytes()) == {0}
    j.close()
    assert list(tmp_path.glob("settle-*.jsonl")) == []


def test_a_line_larger_than_a_segment_gets_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_module, "SEGMENT_BYTES", 512)
    j = Journal(tmp_path)
    segment = j.append(entry())
    assert segment.map is not None and len(segment.map) >= segment.size > 512
    crash(j)
    found = [e for _, entries in Journal(tmp_path).orphans() for e in entries]
    assert found == [entry()]


def test_close_keeps_what_is_not_committed(tmp_path: Path) -> None:
    j = Journal(tmp_path)
    j.append(entry(1))
    j.close()
    [(_, entries)] = list(Journal(tmp_path).orphans())
    assert [e.usage.id for e in entries] == ["req_1"]
