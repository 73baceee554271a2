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
