"""Typed settings, read once from the environment (prefix ``VALUECHAIN_``)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

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
    market_fee_bps: int = Field(
        default=1000,
        ge=0,
        le=10_000,
        description="The platform's fee on every marketplace sale, in basis points (1000 = 10 %).",
    )
    max_request_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        description="Largest request body accepted by the JSON APIs, in bytes; larger bodies get 413.",
    )
    log_level: str = Field(
        default="info", description="Log level of the server (debug, info, warning, error)."
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="`json`: one JSON object per log line (time, level, logger, message, request_id), for "
        "log collectors; `text`: plain lines for a terminal.",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Serve the Prometheus metrics on this port of HOST, unauthenticated (keep it off the "
        "public network). Unset: `/metrics` on the main port, for an operator's API key only.",
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
    gateway_journal_scan_s: float = Field(
        default=30.0,
        gt=0,
        description="How often a serving process looks for journal segments no live process holds (a "
        "killed replica's) and commits their entries; replicas sharing a journal directory recover each "
        "other's.",
    )
    gateway_hold_ttl_s: int = Field(
        default=900,
        ge=10,
        description="Longest life of a balance hold in Redis; holds of a replica that stopped without "
        "settling are released sooner, once its heartbeat lapses.",
    )

    blob_store: Literal["local", "s3"] = Field(
        default="local",
        description="Where hub files live: `local` (HUB_BLOB_DIR on this machine) or `s3` (an "
        "S3-compatible object store shared by every replica: AWS S3, MinIO, Ceph RGW, Garage).",
    )
    s3_endpoint_url: str | None = Field(
        default=None,
        description="URL of the S3-compatible service (e.g. http://minio:9000). Unset: AWS S3 of S3_REGION.",
    )
    s3_bucket: str | None = Field(default=None, description="Bucket of the blob store (must exist).")
    s3_prefix: str = Field(
        default="", description="Key prefix inside the bucket (e.g. `valuechain/`); empty: the bucket root."
    )
    s3_region: str = Field(default="us-east-1", description="Region the requests are signed for.")
    s3_access_key_id_env: str = Field(
        default="AWS_ACCESS_KEY_ID",
        description="Name of the environment variable holding the access key id (never the key itself).",
    )
    s3_secret_access_key_env: str = Field(
        default="AWS_SECRET_ACCESS_KEY",
        description="Name of the environment variable holding the secret access key.",
    )
    s3_path_style: bool = Field(
        default=False,
        description="Path-style addressing (http://host/bucket/key), which MinIO, Ceph and Garage usually "
        "need; off: virtual-hosted style (http://bucket.host/key).",
    )
    s3_part_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=5 * 1024 * 1024,
        description="Part size of multipart uploads; files up to one part are stored with a single PUT.",
    )
    s3_presign_downloads: bool = Field(
        default=False,
        description="Answer file downloads with a redirect to a presigned URL of the object store instead "
        "of streaming through the server (clients must reach the store's endpoint).",
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
    channels_fee_bps: int = Field(
        default=1000,
        ge=0,
        le=10_000,
        description="The platform's fee on white-label usage, in basis points of the customer price "
        "(1000 = 10 %), posted as its own ledger line.",
    )
    channels_webhook_allow_private: bool = Field(
        default=False,
        description="Let webhooks reach loopback, private and link-local addresses (off: a webhook URL "
        "cannot make the server call its own network).",
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
