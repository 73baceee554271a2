"""finetune: uploaded files, fine-tuning jobs (the embedded queue), their events and checkpoints (issue 12)

Revision ID: 0010_finetune
Revises: 0009_console_sessions
Create Date: 2026-11-29 19:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_finetune"
down_revision = "0009_console_sessions"
branch_labels = None
depends_on = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "finetune_files",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("bytes", BigInt, nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_finetune_files_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finetune_files")),
    )
    op.create_index(op.f("ix_finetune_files_org_id"), "finetune_files", ["org_id"])
    op.create_table(
        "finetune_jobs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("base_version_id", sa.String(length=40), nullable=False),
        sa.Column("offer_id", sa.String(length=40), nullable=False),
        sa.Column("provider_org_id", sa.String(length=40), nullable=False),
        sa.Column("training_file_id", sa.String(length=40), nullable=False),
        sa.Column("validation_file_id", sa.String(length=40), nullable=True),
        sa.Column("training_sha256", sa.String(length=64), nullable=False),
        sa.Column("n_examples", sa.Integer(), nullable=False),
        sa.Column("hyperparameters", sa.JSON(), nullable=False),
        sa.Column("suffix", sa.String(length=64), nullable=True),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("fine_tuned_model", sa.String(length=200), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("worker_id", sa.String(length=120), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("steps_done", sa.Integer(), nullable=False),
        sa.Column("total_steps", sa.Integer(), nullable=False),
        sa.Column("trained_tokens", BigInt, nullable=False),
        sa.Column("compute_flop", sa.Float(), nullable=True),
        sa.Column("hold", BigInt, nullable=False),
        sa.Column("cost", BigInt, nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_finetune_jobs_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finetune_jobs")),
    )
    op.create_index(op.f("ix_finetune_jobs_org_id"), "finetune_jobs", ["org_id"])
    op.create_index(op.f("ix_finetune_jobs_status"), "finetune_jobs", ["status"])
    op.create_index(op.f("ix_finetune_jobs_heartbeat_at"), "finetune_jobs", ["heartbeat_at"])
    op.create_table(
        "finetune_events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("job_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["finetune_jobs.id"],
            name=op.f("fk_finetune_events_job_id_finetune_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finetune_events")),
    )
    op.create_index(op.f("ix_finetune_events_job_id"), "finetune_events", ["job_id"])
    op.create_table(
        "finetune_checkpoints",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("job_id", sa.String(length=40), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("tokens", BigInt, nullable=False),
        sa.Column("loss", sa.Float(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["finetune_jobs.id"],
            name=op.f("fk_finetune_checkpoints_job_id_finetune_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finetune_checkpoints")),
    )
    op.create_index(op.f("ix_finetune_checkpoints_job_id"), "finetune_checkpoints", ["job_id"])


def downgrade() -> None:
    op.drop_table("finetune_checkpoints")
    op.drop_table("finetune_events")
    op.drop_table("finetune_jobs")
    op.drop_table("finetune_files")
