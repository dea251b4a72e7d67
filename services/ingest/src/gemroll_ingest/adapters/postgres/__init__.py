"""PostgreSQL adapters (asyncpg). Tables live in the service schema (see migrations/)."""

from .consent import PgConsentRepository
from .media import PgMediaRepository
from .outbox import announcing_relay, mark_announced
from .uploads import PgUploadRepository

__all__ = ["PgConsentRepository", "PgMediaRepository", "PgUploadRepository",
           "announcing_relay", "mark_announced"]
