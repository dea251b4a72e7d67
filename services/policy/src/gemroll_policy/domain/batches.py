"""What the gate does when applying a batch of records fails (pure: the caller says how it
failed). Applying is one database transaction per batch, so a failure decides nothing.

* a dependency is down (transient): the whole batch waits and is applied again, for as long
  as it takes, never skipped or dead-lettered (fail closed);
* something in a batch of several records cannot be processed: the batch is taken apart and
  each record applied alone, so the others are decided and the bad one found;
* a record that fails alone is applied again, up to `max_attempts` times (at once when the
  failure is final, a poison record), then dead-lettered so that the gate goes on.
"""

from __future__ import annotations

from enum import StrEnum


class AfterFailure(StrEnum):
    wait = "wait"
    """Apply the whole batch again after a backoff."""
    isolate = "isolate"
    """Apply each record of the batch alone."""
    retry = "retry"
    """Apply the record again after a backoff."""
    dead_letter = "dead_letter"
    """Give up on the record: dead-letter it."""


def after_failure(*, transient: bool, final: bool, records: int, attempt: int,
                  max_attempts: int) -> AfterFailure:
    """The next step after attempt number `attempt` at applying `records` records failed."""
    if transient:
        return AfterFailure.wait
    if records > 1:
        return AfterFailure.isolate
    if final or attempt >= max_attempts:
        return AfterFailure.dead_letter
    return AfterFailure.retry


__all__ = ["AfterFailure", "after_failure"]
