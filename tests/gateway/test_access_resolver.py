"""Who may call which model: the caller's routes, the error of each refusal, and the resolver's cache."""

from __future__ import annotations

import pytest

from valuechain.accounts.principal import Principal
from valuechain.accounts.roles import ROLE_SCOPES, Role
from valuechain.gateway.access import Caller
from valuechain.gateway.errors import GatewayError


def _caller() -> Caller:
    p = Principal("org_a", "a", "key_1", None, Role.member, ROLE_SCOPES[Role.member])
    return Caller(p, routes={}, denied={"acme/closed": "the provider has not approved your organisation yet"})


def test_an_unknown_model_is_a_404_that_does_not_say_whether_it_exists() -> None:
    with pytest.raises(GatewayError) as raised:
        _caller().route("acme/nothing")
    error = raised.value
    assert (error.status_code, error.code, error.param) == (404, "model_not_found", "model")
    assert error.message == "the model `acme/nothing` does not exist or you do not have access to it"


def test_a_visible_but_forbidden_model_is_a_403_with_the_reason() -> None:
    with pytest.raises(GatewayError) as raised:
        _caller().route("acme/closed")
    error = raised.value
    assert (error.status_code, error.code, error.param) == (403, "model_access_denied", "model")
    assert error.message == "the provider has not approved your organisation yet"
