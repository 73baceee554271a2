"""Typed settings, read once from the environment (prefix ``VALUECHAIN_``)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting of valuechain; documented in docs/settings.md (generated, checked by a test)."""

    model_config = SettingsConfigDict(env_prefix="VALUECHAIN_", extra="ignore", frozen=True)

    home: Path = Field(
        default=Path(".valuechain"),
        description="Data directory: the SQLite database, blobs and other local state live here.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the database. Default: SQLite at HOME/valuechain.db. "
        "PostgreSQL: postgresql://user@host:5432/db.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis URL for counters shared across gateway processes. Unset: in-process counters.",
    )
    redis_key_prefix: str = Field(
        default="vc:",
        description="Prefix of every Redis key the gateway writes (rate limits, budgets, balance holds); "
        "processes that should share limits use the same prefix.",
    )
    host: str = Field(default="127.0.0.1", description="Address `valuechain serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `valuechain serve` listens on.")
    max_request_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        description="Largest request body accepted by the JSON APIs, in bytes; larger bodies get 413.",
    )
    log_level: str = Field(
        default="info", description="Log level of the server (debug, info, warning, error)."
    )
    public_url: str | None = Field(
        default=None,
        description="Base URL under which this server is reachable; used in printed hints and links. "
        "Default: http://HOST:PORT (127.0.0.1 when HOST binds every address).",
    )

    gateway_journal_dir: Path | None = Field(
        default=None,
        description="Directory of the gateway's settlement journal: each request's metering entry is "
        "appended here before its response is sent and committed to the database right after. Local to "
        "each server machine; entries a stopped process could not commit are replayed at the next start. "
        "Default: HOME/journal.",
    )

    hub_blob_dir: Path | None = Field(
        default=None,
        description="Directory of the hub's content-addressed blob store. Default: HOME/blobs.",
    )
    hub_max_file_bytes: int = Field(
        default=50 * 1000**3,
        ge=1,
        description="Largest single file the hub accepts, in bytes (huggingface_hub cannot download "
        "files over 50 GB without Xet).",
    )
    hub_inline_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=0,
        description='Files up to this size are uploaded inline in the commit ("regular"); larger files '
        "go through the Git LFS API.",
    )
    hub_max_commit_bytes: int = Field(
        default=512 * 1024 * 1024,
        ge=1024,
        description="Largest NDJSON commit body (inline file contents included) the hub accepts, in bytes.",
    )
    hub_upload_secret: str | None = Field(
        default=None,
        description="Key that signs LFS upload URLs; set the same value on every server process. "
        "Unset: a random key per process.",
    )

    finetune_worker: bool | None = Field(
        default=None,
        description="Whether `valuechain serve` starts an embedded fine-tuning worker process beside the "
        "server. Default: yes on SQLite, no on PostgreSQL (run `valuechain worker` on the training "
        "machines).",
    )
    finetune_lease_s: float = Field(
        default=30.0,
        gt=0,
        description="A fine-tuning worker heartbeats its job every third of this; a job whose heartbeat is "
        "older is taken over by another worker and resumed from its last checkpoint.",
    )
    finetune_poll_s: float = Field(
        default=2.0, gt=0, description="How often an idle fine-tuning worker looks for a queued job."
    )
    finetune_threads: int | None = Field(
        default=None, ge=1, description="CPU threads of one training run. Default: torch's choice."
    )
    finetune_checkpoint_every: int = Field(
        default=10, ge=1, description="A fine-tuning job saves a checkpoint every this many steps."
    )

    @field_validator("home")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @cached_property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite inside ``home``."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{(self.home / 'valuechain.db').resolve()}"

    @property
    def resolved_public_url(self) -> str:
        """The URL printed to users: ``public_url``, else built from ``host`` and ``port``."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def resolved_gateway_journal_dir(self) -> Path:
        """Where the settlement journal lives, defaulting to ``HOME/journal``."""
        return self.gateway_journal_dir or self.home / "journal"

    @property
    def resolved_hub_blob_dir(self) -> Path:
        """Where hub blobs live, defaulting to ``HOME/blobs``."""
        return self.hub_blob_dir or self.home / "blobs"


def normalise_database_url(url: str) -> str:
    """Map ``postgresql://`` and ``postgres://`` to the psycopg 3 driver that we ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
