"""Alembic migrations of the bridge's schema."""
