"""Persistence: SQLModel tables, the async engine, query and batch-load functions, migrations."""
