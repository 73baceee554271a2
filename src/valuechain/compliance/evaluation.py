"""Evaluation runs (issue 13 point 6): a built-in multiple-choice suite scored over any channel of a model.

A model is reached through a ``runtime.base.Backend``: its API channel through the project's own ``/v1``
(``RemoteBackend`` with the caller's key, metered like any call), its open-weights channel by loading the
hub's GGUF into the embedded runtime (``LlamaCppBackend``). Each item is scored by log-likelihood, as
lm-evaluation-harness's ``acc`` does: the prompt ``Question: …\\nAnswer:`` followed by each choice is sent
with ``echo`` and prompt logprobs, and the choice whose tokens are most likely wins. The same suite over both
channels is the channel-neutrality evidence (Annex XI §2, Art. 55(1)(a)); ``compare`` records the difference.

The runner is pure of storage: ``records.record_evaluation`` stores what it returns.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from valuechain.core.errors import ValidationError
from valuechain.runtime.base import Backend

CHANNELS = ("api", "weights")
#: score difference between two channels above which they are not recorded as equivalent
NEUTRALITY_TOLERANCE = 0.0


@dataclass(frozen=True, slots=True)
class Suite:
    """A multiple-choice suite and the sha256 of its exact file; ``evidence`` False for a quick check too
    small to evaluate a model (its runs are stored, they meet no obligation)."""

    name: str
    sha256: str
    items: list[dict[str, Any]]
    evidence: bool = True


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One item: the choice picked, whether it is the answer, and every choice's log-likelihood."""

    index: int
    picked: int
    answer: int
    correct: bool
    loglikelihoods: list[float]


@dataclass(frozen=True, slots=True)
class RunResult:
    """The outcome of one suite over one channel."""

    suite: str
    suite_sha256: str
    channel: str
    score: float
    correct: int
    total: int
    items: list[ItemResult]


def suite_names() -> list[str]:
    """The suites shipped in the package."""
    folder = files("valuechain.compliance").joinpath("suites")
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json"))


def load_suite(name: str) -> Suite:
    """A suite shipped in the package (``compliance/suites/<name>.json``)."""
    path = files("valuechain.compliance").joinpath("suites", f"{name}.json")
    if not name.replace("-", "").isalnum() or not path.is_file():
        raise ValidationError(f"unknown suite `{name}` (known: {', '.join(suite_names())})")
    raw = path.read_bytes()
    data = json.loads(raw)
    for i, item in enumerate(data["items"]):
        if not 0 <= item["answer"] < len(item["choices"]):
            raise ValidationError(f"suite {name} item {i}: answer outside its choices")
    return Suite(
        name=data["name"],
        sha256=hashlib.sha256(raw).hexdigest(),
        items=data["items"],
        evidence=bool(data.get("evidence", True)),
    )


def _context(question: str) -> str:
    return f"Question: {question}\nAnswer:"


async def loglikelihood(backend: Backend, context: str, continuation: str) -> float:
    """Sum of the logprobs of ``continuation``'s tokens after ``context`` (echoed prompt logprobs)."""
    body = {
        "model": backend.served_name,
        "prompt": context + continuation,
        "max_tokens": 0,
        "echo": True,
        "logprobs": 0,
        "temperature": 0.0,
    }
    answer = await backend.completion(body)
    lp = answer["choices"][0]["logprobs"]
    total = 0.0
    for offset, value in zip(lp["text_offset"], lp["token_logprobs"], strict=True):
        if offset >= len(context) and value is not None:
            total += float(value)
    if not math.isfinite(total):
        raise ValidationError("the model returned a non-finite log-likelihood")
    return total


async def run_suite(backend: Backend, suite: Suite, *, channel: str) -> RunResult:
    """Score every item of ``suite`` on ``backend``; ties go to the first choice."""
    if channel not in CHANNELS:
        raise ValidationError(f"unknown channel `{channel}` (known: {', '.join(CHANNELS)})")
    results: list[ItemResult] = []
    for index, item in enumerate(suite.items):
        context = _context(item["question"])
        scores = [await loglikelihood(backend, context, f" {choice}") for choice in item["choices"]]
        picked = max(range(len(scores)), key=lambda i: (scores[i], -i))
        results.append(ItemResult(index, picked, item["answer"], picked == item["answer"], scores))
    correct = sum(r.correct for r in results)
    return RunResult(
        suite=suite.name,
        suite_sha256=suite.sha256,
        channel=channel,
        score=correct / len(results) if results else 0.0,
        correct=correct,
        total=len(results),
        items=results,
    )


def is_complete(result: RunResult, suite: Suite) -> bool:
    """Whether ``result`` scored every item of exactly ``suite``, one that evaluates a model (only then is
    it evidence)."""
    complete = 0 < result.total == len(result.items) == len(suite.items)
    return suite.evidence and result.suite_sha256 == suite.sha256 and complete


def compare(runs: dict[str, float]) -> dict[str, Any]:
    """Channel neutrality from the latest score per channel: equivalent when the scores agree."""
    if len(runs) < 2:
        return {"channels": runs, "neutral": None, "difference": None}
    difference = max(runs.values()) - min(runs.values())
    return {"channels": runs, "neutral": difference <= NEUTRALITY_TOLERANCE, "difference": difference}
