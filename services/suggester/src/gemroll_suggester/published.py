"""What the suggester publishes on the public topic `gemroll.suggestions.v1`.

A suggestion's revisions only grow: `suggestion.created` for revision n, and
`suggestion.withdrawn` (revision n + 1, no media ids) when it is taken back; subscribers keep
the highest revision per id. Event ids are deterministic (outbox redelivery dedupes).
"""

from __future__ import annotations

from datetime import datetime

from gemroll_contracts import (
    SuggestionCreated,
    SuggestionCreatedData,
    SuggestionWithdrawn,
    SuggestionWithdrawnData,
    WithdrawalReason,
)

from .domain import SuggestionRecord
from .domain.model import derived_id


def suggestion_created(record: SuggestionRecord) -> SuggestionCreated:
    return SuggestionCreated(
        event_id=derived_id("suggestion-created", record.suggestion_id, record.revision),
        producer="suggester",
        data=SuggestionCreatedData(
            suggestion_id=record.suggestion_id, revision=record.revision,
            user_key=record.user_key, kind=record.kind, media_ids=list(record.media_ids),
            title=record.title, preview_object_key=record.preview_object_key,
            recipe=record.recipe, event_start=record.event_start, event_end=record.event_end,
            created_at=record.created_at,
        ),
    )


def suggestion_withdrawn(record: SuggestionRecord, reason: WithdrawalReason,
                         at: datetime) -> SuggestionWithdrawn:
    """For a record already at its withdrawal revision (`domain.planning.withdrawn`)."""
    return SuggestionWithdrawn(
        event_id=derived_id("suggestion-withdrawn", record.suggestion_id, record.revision),
        producer="suggester",
        data=SuggestionWithdrawnData(
            suggestion_id=record.suggestion_id, revision=record.revision,
            user_key=record.user_key, kind=record.kind, reason=reason, withdrawn_at=at,
        ),
    )

