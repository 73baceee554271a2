"""The base of every pydantic model that reads input from outside (API bodies, manifests).

Numbers must be finite: ``NaN``, ``Infinity``, ``-Infinity`` and overflowing literals such as ``1e999``
(which JSON and YAML parsers read as infinity) are a validation error, so a 422, instead of being stored
and then driving obligations ("inf FLOP", issue 17). Integer fields refuse them already; this covers
floats, including strings such as ``"inf"`` read in lax mode.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict


class InputModel(BaseModel):
    """Subclasses merge their own ``model_config`` with this one and keep the finite-number rule."""

    model_config = ConfigDict(allow_inf_nan=False)


def finite_float(value: object) -> float:
    """``float(value)`` for values not read by a model (what-if changes); raises ``ValueError`` if not
    finite."""
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number
