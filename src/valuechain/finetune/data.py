"""Training data and job parameters: chat-format JSONL validation, ``auto`` hyperparameters, model names.

Pure functions over bytes and numbers (no database, no torch), tested from tables of cases.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import orjson

from valuechain.core.errors import ValidationError

ROLES = ("system", "user", "assistant")
_SUFFIX = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class TrainingFileError(ValidationError):
    """A training file that is not chat-format JSONL; the message names the line."""


@dataclass(frozen=True, slots=True)
class Example:
    """One training conversation: the last assistant message is what the model learns to say."""

    messages: tuple[tuple[str, str], ...]


def check_jsonl(content: bytes) -> int:
    """The number of JSON lines of an uploaded ``fine-tune`` file; raises naming the first bad line."""
    count = 0
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise TrainingFileError(f"line {number} is not valid JSON: {exc.msg}") from None
        count += 1
    if count == 0:
        raise TrainingFileError("the file holds no JSON lines")
    return count


def parse_examples(content: bytes) -> list[Example]:
    """Chat-format examples (``{"messages": [{"role", "content"}, …]}`` per line), validated."""
    examples: list[Example] = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise TrainingFileError(f"line {number} is not valid JSON: {exc.msg}") from None
        examples.append(_example(record, number))
    if not examples:
        raise TrainingFileError("the training file holds no examples")
    return examples


def _example(record: Any, number: int) -> Example:
    messages = record.get("messages") if isinstance(record, dict) else None
    if not isinstance(messages, list) or not messages:
        raise TrainingFileError(f"line {number}: expected an object with a non-empty `messages` list")
    pairs: list[tuple[str, str]] = []
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if role not in ROLES:
            raise TrainingFileError(
                f"line {number}: messages[{index}].role must be one of {', '.join(ROLES)}"
            )
        if not isinstance(content, str) or not content:
            raise TrainingFileError(f"line {number}: messages[{index}].content must be a non-empty string")
        pairs.append((role, content))
    if pairs[-1][0] != "assistant":
        raise TrainingFileError(f"line {number}: the last message must be the assistant's")
    return Example(messages=tuple(pairs))


def content_bytes(examples: list[Example]) -> int:
    """An upper bound of the tokens of the examples: byte-level tokenizers never make more tokens than bytes
    (plus a few tokens of chat template per message)."""
    return sum(len(c.encode()) + 8 for e in examples for _, c in e.messages) + 32 * len(examples)


# --- auto hyperparameters ----------------------------------------------------------------------------
# OpenAI's documented defaults (the cookbook "Data preparation and analysis for chat model fine-tuning"):
# 3 epochs, raised so that at least 100 examples are seen (at most 25 epochs), lowered so that at most 25,000
# are. Batch size ~0.2 % of the examples; on CPU at least 4 (measured: a step of 4 costs about as much as 2
# steps of 1) but never more than the examples.
TARGET_EPOCHS, MIN_TARGET_EXAMPLES, MAX_TARGET_EXAMPLES = 3, 100, 25_000
MIN_DEFAULT_EPOCHS, MAX_DEFAULT_EPOCHS = 1, 25
#: the LoRA learning rate a multiplier of 1 means (measured: r=8 on q/v learns a fact at 1e-3 in 30
#: steps of 4; fewer steps at twice the rate learn it too)
BASE_LEARNING_RATE = 2e-3


@dataclass(frozen=True, slots=True)
class Hyperparameters:
    """What a job trains with, ``auto`` resolved."""

    n_epochs: int
    batch_size: int
    learning_rate_multiplier: float

    @property
    def learning_rate(self) -> float:
        return BASE_LEARNING_RATE * self.learning_rate_multiplier

    def steps(self, n_examples: int) -> int:
        """Optimizer steps of a whole job."""
        return math.ceil(n_examples / self.batch_size) * self.n_epochs


def auto_epochs(n_examples: int) -> int:
    if n_examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, math.ceil(MIN_TARGET_EXAMPLES / n_examples))
    if n_examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // n_examples)
    return TARGET_EPOCHS


def auto_batch_size(n_examples: int) -> int:
    return max(1, min(n_examples, 256, max(4, math.ceil(n_examples * 0.002))))


def resolve_hyperparameters(given: dict[str, Any], n_examples: int) -> Hyperparameters:
    """Fill ``auto`` (or absent) values from the dataset's size."""
    epochs = given.get("n_epochs", "auto")
    batch = given.get("batch_size", "auto")
    multiplier = given.get("learning_rate_multiplier", "auto")
    return Hyperparameters(
        n_epochs=auto_epochs(n_examples) if epochs == "auto" else int(epochs),
        batch_size=auto_batch_size(n_examples) if batch == "auto" else min(int(batch), n_examples),
        learning_rate_multiplier=1.0 if multiplier == "auto" else float(multiplier),
    )


# --- names -------------------------------------------------------------------------------------------


def check_suffix(suffix: str | None) -> str | None:
    """OpenAI's rule: up to 64 characters of letters, digits, ``-`` and ``_``."""
    if suffix is None or suffix == "":
        return None
    if not _SUFFIX.match(suffix):
        raise ValidationError("suffix: up to 64 letters, digits, '-' or '_'")
    return suffix


def fine_tuned_name(*, base: str, org_slug: str, suffix: str | None, job_id: str) -> str:
    """``ft:<base>:<org>:<suffix>:<id>`` as OpenAI names fine-tuned models (the suffix may be empty)."""
    return f"ft:{base}:{org_slug}:{suffix or ''}:{job_id.split('_', 1)[-1][-8:]}"


def checkpoint_name(fine_tuned_model: str, step: int) -> str:
    return f"{fine_tuned_model}:ckpt-step-{step}"
