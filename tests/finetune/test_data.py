"""Training-file validation, auto hyperparameters and fine-tuned model names (pure functions)."""

from __future__ import annotations

import json

import pytest

from valuechain.core.errors import ValidationError
from valuechain.finetune import data as d


def _line(*messages: tuple[str, str]) -> bytes:
    return json.dumps({"messages": [{"role": r, "content": c} for r, c in messages]}).encode()


GOOD = _line(("user", "hi"), ("assistant", "hello"))


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (GOOD + b"\n{not json\n", "line 2 is not valid JSON"),
        (GOOD + b"\n" + json.dumps({"prompt": "x"}).encode(), "line 2: expected an object"),
        (_line(("user", "hi"), ("bot", "x")), "line 1: messages[1].role"),
        (_line(("user", "hi"), ("assistant", "")), "line 1: messages[1].content"),
        (_line(("assistant", "x"), ("user", "hi")), "line 1: the last message must be the assistant's"),
        (b"\n\n", "no examples"),
        (b"[1, 2]", "line 1: expected an object"),
    ],
)
def test_a_bad_training_file_names_its_line(content: bytes, fragment: str) -> None:
    with pytest.raises(d.TrainingFileError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        d.parse_examples(content)


def test_good_examples_parse_and_keep_order() -> None:
    examples = d.parse_examples(GOOD + b"\n\n" + _line(("system", "s"), ("user", "u"), ("assistant", "a")))
    assert [len(e.messages) for e in examples] == [2, 3]
    assert examples[1].messages[-1] == ("assistant", "a")


def test_upload_check_is_jsonl_only() -> None:
    assert d.check_jsonl(b'{"a": 1}\n\n{"b": 2}\n') == 2
    with pytest.raises(d.TrainingFileError, match="line 3"):
        d.check_jsonl(b'{"a": 1}\n{"b": 2}\nnope')


@pytest.mark.parametrize(
    ("n", "epochs", "batch"),
    [
        (1, 25, 1),
        (3, 25, 3),
        (10, 10, 4),
        (28, 4, 4),
        (34, 3, 4),
        (100, 3, 4),
        (5000, 3, 10),
        (10_000, 2, 20),
        (200_000, 1, 256),
    ],
)
def test_auto_hyperparameters_follow_the_dataset_size(n: int, epochs: int, batch: int) -> None:
    hp = d.resolve_hyperparameters({}, n)
    assert (hp.n_epochs, hp.batch_size, hp.learning_rate_multiplier) == (epochs, batch, 1.0)


def test_a_few_dozen_examples_get_enough_steps_to_learn() -> None:
    """Measured (docs/finetuning.md): ~30 steps of 4 at 1e-3 teach a fact; auto gives as many at 2e-3."""
    hp = d.resolve_hyperparameters({}, 28)
    assert hp.steps(28) >= 28 and hp.learning_rate == pytest.approx(2e-3)


def test_given_hyperparameters_win_and_batch_never_exceeds_the_examples() -> None:
    hp = d.resolve_hyperparameters({"n_epochs": 2, "batch_size": 64, "learning_rate_multiplier": 0.5}, 10)
    assert (hp.n_epochs, hp.batch_size, hp.learning_rate) == (2, 10, pytest.approx(1e-3))
    assert hp.steps(10) == 2


def test_fine_tuned_names_follow_openai() -> None:
    name = d.fine_tuned_name(base="acme/smol", org_slug="devco", suffix="zorbia", job_id="ftjob_01abcdefghjk")
    assert name == "ft:acme/smol:devco:zorbia:abcdefghjk"[:-10] + "cdefghjk"
    assert d.fine_tuned_name(base="b", org_slug="o", suffix=None, job_id="ftjob_x1").startswith("ft:b:o::")
    assert d.checkpoint_name(name, 10).endswith(":ckpt-step-10")


@pytest.mark.parametrize("suffix", ["has space", "x" * 65, "ünï", "a/b"])
def test_bad_suffixes_are_refused(suffix: str) -> None:
    with pytest.raises(ValidationError):
        d.check_suffix(suffix)


def test_upper_token_bound_covers_bytes_and_template() -> None:
    examples = d.parse_examples(GOOD)
    assert d.content_bytes(examples) == len("hi") + 8 + len("hello") + 8 + 32
