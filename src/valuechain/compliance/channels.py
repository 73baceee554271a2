"""The channels an evaluation reaches a model through (issue 13 point 6).

``api``: the project's own ``/v1`` with the caller's API key, so the run is admitted, metered and billed like
any call (the inspector's organisation pays for its own runs). ``weights``: the hub's GGUF weights, downloaded
under the hub's access rules (gated repos need accepted terms) and loaded from the blob store into the
embedded runtime (llama.cpp), as a recipient of the open weights would run them.
"""

from __future__ import annotations

from valuechain.accounts.principal import Principal
from valuechain.core.db import Database
from valuechain.core.errors import ValidationError
from valuechain.core.settings import Settings
from valuechain.hub.service import weights_file
from valuechain.hub.storage import open_blob_store
from valuechain.runtime.base import Backend
from valuechain.runtime.remote import RemoteBackend

#: a context window enough for a multiple-choice item; small keeps the load cheap
EVAL_CONTEXT = 512


def api_backend(*, base_url: str, api_key: str, served_name: str) -> Backend:
    """The model behind a served ``/v1`` (``base_url`` ends in ``/v1``), called with ``api_key``."""
    if not api_key:
        raise ValidationError("the api channel needs an API key of your organisation (--api-key)")
    return RemoteBackend(base_url=base_url, served_name=served_name, api_key=api_key)


def weights_backend(
    db: Database, settings: Settings, *, principal: Principal | None, repo_id: str, revision: str = "main"
) -> Backend:
    """The repo's GGUF weights loaded into the embedded runtime (llama.cpp)."""
    from valuechain.runtime.llamacpp import LlamaConfig, LlamaCppBackend

    served = weights_file(db, principal=principal, repo_id=repo_id, revision=revision)
    path = open_blob_store(settings).local_path(served.sha256)
    if path is None:
        raise ValidationError(f"the weights of {repo_id} are not in a local blob store; download them first")
    return LlamaCppBackend(LlamaConfig(model_path=path, n_ctx=EVAL_CONTEXT), served_name=repo_id)
