"""Alembic migrations of the valuechain schema."""
