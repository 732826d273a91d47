"""Relational metadata: models, the session factory (unit of work) and migrations."""
