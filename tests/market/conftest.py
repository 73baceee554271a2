"""Market fixtures: the gateway's world (a provider ``acme`` with an ``api`` offer of ``acme/tiny`` served by
a fake backend, ``devco`` entitled, ``outco`` outside), for the bad-input cases that cross into ``/v1``."""

from __future__ import annotations

from tests.gateway.conftest import sqlite_only, world  # noqa: F401  (the fixtures, shared)
