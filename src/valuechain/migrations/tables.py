"""Every domain's tables in one metadata, for Alembic and test set-up (core imports no domain)."""

from __future__ import annotations

import valuechain.accounts.models  # noqa: F401
import valuechain.channels.models  # noqa: F401
import valuechain.compliance.models  # noqa: F401
import valuechain.core.audit  # noqa: F401
import valuechain.finetune.models  # noqa: F401
import valuechain.gateway.models  # noqa: F401
import valuechain.hub.models  # noqa: F401
import valuechain.market.models  # noqa: F401
import valuechain.oversight.models  # noqa: F401
import valuechain.registry.models  # noqa: F401
import valuechain.runtime.models  # noqa: F401
from valuechain.core.db import Base

metadata = Base.metadata


def is_ours(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's ``include_name``: procrastinate's tables (migration 0015) are the library's, not in our
    metadata, so autogenerate and the migration test leave them alone."""
    return not (type_ == "table" and (name or "").startswith("procrastinate_"))
