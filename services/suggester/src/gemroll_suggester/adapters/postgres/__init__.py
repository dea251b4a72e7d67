"""The suggester's state on PostgreSQL (asyncpg), one module per aggregate."""

from .unit import PostgresTransaction, PostgresUnitOfWork

__all__ = ["PostgresTransaction", "PostgresUnitOfWork"]
