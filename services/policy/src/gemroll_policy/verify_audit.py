"""Check the audit log's hash chain: `python -m gemroll_policy.verify_audit`.

Reads DATABASE_URL and GEMROLL_POLICY_DB_SCHEMA like the service. Prints one JSON line and
exits 0 when every record links to the one before it, 1 at the first broken record.
"""

from __future__ import annotations

import asyncio
import json
import sys

import asyncpg
from gemroll_common.db import create_pool
from gemroll_common.settings import DatabaseSettings

from .adapters.postgres import PostgresAuditReader
from .domain import verify
from .settings import PolicySettings


async def check(database: DatabaseSettings, settings: PolicySettings) -> dict[str, object]:
    pool = await create_pool(database, settings.db_schema)
    try:
        records = await PostgresAuditReader(pool).records()
    except asyncpg.UndefinedTableError:
        return {"ok": False, "records": 0, "first_bad_seq": None,
                "problem": f"no audit log in schema {settings.db_schema!r}", "head": None}
    finally:
        await pool.close()
    result = verify(records)
    return {"ok": result.ok, "records": result.records, "first_bad_seq": result.first_bad_seq,
            "problem": result.problem,
            "head": records[-1].row_hash if records and result.ok else None}


def main() -> None:
    result = asyncio.run(check(DatabaseSettings(), PolicySettings()))
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
