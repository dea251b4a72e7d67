"""PostgreSQL adapters (asyncpg). Tables live in the service schema (see migrations/)."""

from .consent import PgConsentRepository
from .media import PgMediaRepository
from .outbox import PgOutboxStore, insert_outbox
from .uploads import PgUploadRepository

__all__ = [
    "PgConsentRepository", "PgMediaRepository", "PgOutboxStore", "PgUploadRepository",
    "insert_outbox",
]
