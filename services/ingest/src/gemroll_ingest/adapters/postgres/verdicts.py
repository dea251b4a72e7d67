"""SQL for the classifier's verdicts: reading them from a row, filtering listings by them."""

from __future__ import annotations

import asyncpg

from ...domain.verdicts import MediaFilter, Verdict


def verdict_of_row(row: asyncpg.Record) -> Verdict | None:
    if row["verdict_at"] is None:
        return None
    return Verdict(category=row["category"], is_gem=row["is_gem"], gem_score=row["gem_score"],
                   reasons=tuple(row["reasons"] or ()), decided_at=row["verdict_at"])


def filtered(where: MediaFilter, params: list[object]) -> str:
    """SQL conditions for a listing filter; appends their parameters to `params`."""
    sql = {"gem": " AND is_gem", "junk": " AND NOT is_gem",
           "unclassified": " AND is_gem IS NULL", None: ""}[where.verdict]
    if where.signal is not None:
        params.append(where.signal)
        sql += (" AND EXISTS (SELECT 1 FROM unnest(reasons) AS r"
                f" WHERE split_part(r, ':', 1) = ${len(params)})")
    return sql
