"""Secrets never reach the full request log, wherever a body puts them (issue 17, part 3): glued to words
on either side, as JSON object keys, nested in lists and objects; property-based over the placements."""

from __future__ import annotations

import string
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from valuechain.core.security import generate_secret
from valuechain.gateway.logs import redact, redact_body

_ALNUM = string.ascii_letters + string.digits
_KEY_CHARS = _ALNUM + "_-"

# Our keys (`vc_<prefix>_<random>`, as generate_secret makes them) and OpenAI-style ones (`sk-…`, random
# base62 with at least one digit, as real ones have).
_OUR_KEYS = st.builds(lambda _: generate_secret()[1], st.integers())
_OPENAI_KEYS = st.builds(
    lambda head, digit, tail: f"sk-{head}{digit}{tail}",
    st.text(_KEY_CHARS, min_size=8, max_size=40),
    st.sampled_from(string.digits),
    st.text(_ALNUM, min_size=8, max_size=40),
)
SECRETS = st.one_of(_OUR_KEYS, _OPENAI_KEYS)

# Filler: any text, words glued on either side, but nothing that itself looks like the start of a key.
_CLEAN = st.text(max_size=30).filter(lambda t: "vc_" not in t and "sk-" not in t)
_WORDS = st.text(_KEY_CHARS + "KEY=:/", max_size=12).filter(lambda t: "vc_" not in t and "sk-" not in t)


def _leaks(secret: str, original: str, stored: str) -> bool:
    """The secret, or its last 16 characters (a partial scrub), in ``stored`` beyond the filler's own."""
    tail = secret[-16:]
    return secret in stored or stored.count(tail) > original.replace(secret, "").count(tail)


@st.composite
def _glued(draw: st.DrawFn, secret: str) -> str:
    """The secret inside a string: bare, glued to a word before and after, with text around."""
    before, after = draw(_WORDS), draw(st.sampled_from(["", " ", ".", "\n", ",", '"'])) + draw(_WORDS)
    return draw(_CLEAN) + before + secret + after + draw(_CLEAN)


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), _CLEAN)


def _json_values(leaf: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """JSON bodies built of ``leaf`` and scalars (for bodies without secrets)."""
    return st.recursive(
        st.one_of(leaf, _SCALARS),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.one_of(_CLEAN, leaf), inner, max_size=3)
        ),
        max_leaves=8,
    )


@st.composite
def _bodies(draw: st.DrawFn) -> tuple[str, Any]:
    """A secret glued into a string, which is then wrapped 0-4 times: as a list item among others, as an
    object's value among others, or as an object's key."""
    secret = draw(SECRETS)
    value: Any = draw(_glued(secret))
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["item", "value", "key"]))
        if kind == "key" and isinstance(value, str):
            value = {**draw(st.dictionaries(_CLEAN, _SCALARS, max_size=2)), value: draw(_SCALARS)}
        elif kind == "item":
            items = draw(st.lists(_SCALARS, max_size=3))
            at = draw(st.integers(0, len(items)))
            value = [*items[:at], value, *items[at:]]
        else:
            value = {**draw(st.dictionaries(_CLEAN, _SCALARS, max_size=2)), draw(_CLEAN): value}
    return secret, value


@settings(max_examples=300, deadline=None)
@given(_bodies(), st.booleans())
def test_no_secret_survives_in_a_body(case: tuple[str, Any], pii: bool) -> None:
    secret, body = case
    original = orjson.dumps(body).decode()
    assert secret in original  # the generator placed it
    stored = orjson.dumps(redact_body(body, pii=pii)).decode()
    assert not _leaks(secret, original, stored) and "[secret]" in stored


@settings(max_examples=300, deadline=None)
@given(SECRETS.flatmap(lambda s: st.tuples(st.just(s), _glued(s))))
def test_no_secret_survives_in_text(case: tuple[str, str]) -> None:
    secret, text = case
    scrubbed = redact(text, pii=False)
    assert not _leaks(secret, text, scrubbed) and "[secret]" in scrubbed


@settings(max_examples=200, deadline=None)
@given(_json_values(_CLEAN))
def test_bodies_without_secrets_are_kept(body: Any) -> None:
    assert redact_body(body, pii=False) == orjson.loads(orjson.dumps(body))


def test_examples_from_the_probe() -> None:
    """The two placements the outside probe found stored (issue 17)."""
    secret = generate_secret()[1]
    assert redact(f"KEY{secret}", pii=False) == "KEY[secret]"
    assert redact_body({secret: "x", "list": [{f"a{secret}": [secret]}]}, pii=False) == {
        "[secret]": "x",
        "list": [{"a[secret]": ["[secret]"]}],
    }
    assert redact_body({f"{secret}": 1, f"{generate_secret()[1]}": 2}, pii=False) == {
        "[secret]": 1,
        "[secret]#1": 2,
    }


def test_prose_with_sk_stays_readable() -> None:
    text = "a task-specific-fine-tuning run; risk-management-system-review"
    assert redact(text, pii=False) == text
