"""The authenticated caller: an API key of an organisation acting with a role and scopes."""

from __future__ import annotations

from dataclasses import dataclass

from valuechain.accounts.roles import ROLE_RANK, ROLE_SCOPES, Role, Scope
from valuechain.core.errors import ForbiddenError


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling; every service query is scoped by ``org_id``."""

    org_id: str
    org_slug: str
    key_id: str | None
    user_id: str | None
    role: Role
    scopes: frozenset[Scope]
    is_operator: bool = False
    # issue 11: a key restricted to these offers (a reseller's customer key) calls them on /v1 and does
    # nothing else; None: no restriction (accounts.authz decides both)
    offer_ids: frozenset[str] | None = None

    @property
    def actor(self) -> str:
        """How this caller appears in the audit log."""
        return f"key:{self.key_id}" if self.key_id else f"user:{self.user_id}"

    def can(self, scope: Scope) -> bool:
        return scope in self.scopes and scope in ROLE_SCOPES[self.role]

    def require(self, scope: Scope) -> None:
        """Raise ForbiddenError unless the key's role and scopes allow ``scope``."""
        if not self.can(scope):
            raise ForbiddenError(f"this key (role {self.role.value}) lacks the scope `{scope.value}`")

    def require_role(self, role: Role) -> None:
        if ROLE_RANK[self.role] < ROLE_RANK[role]:
            raise ForbiddenError(f"requires role {role.value} or higher; this key has {self.role.value}")


def system_principal(*, org_id: str = "", org_slug: str = "") -> Principal:
    """The local operator acting through the CLI: all scopes, every organisation."""
    return Principal(
        org_id=org_id,
        org_slug=org_slug,
        key_id=None,
        user_id="cli",
        role=Role.owner,
        scopes=frozenset(Scope),
        is_operator=True,
    )


def anonymous_principal() -> Principal:
    """A visitor with neither key nor session (the web console's catalogue): sees what is public only."""
    return Principal(
        org_id="",
        org_slug="",
        key_id=None,
        user_id="anonymous",
        role=Role.viewer,
        scopes=frozenset({Scope.registry_read, Scope.hub_read}),
    )
