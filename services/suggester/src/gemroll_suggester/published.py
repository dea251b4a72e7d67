"""What the suggester publishes: suggestions on the public topic `gemroll.suggestions.v1`,
the user's actions on them, and AI renditions proposed for training.

A suggestion's revisions only grow: `suggestion.created` for revision n, and
`suggestion.withdrawn` (revision n + 1, no media ids) when it is taken back; subscribers keep
the highest revision per id. Event ids are deterministic (outbox redelivery dedupes).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from gemroll_contracts import (
    CandidateSource,
    SuggestionCreated,
    SuggestionCreatedData,
    SuggestionWithdrawn,
    SuggestionWithdrawnData,
    TrainingCandidate,
    TrainingCandidateData,
    UserAction,
    UserActionData,
    WithdrawalReason,
)

from .domain import ACTION_KIND, ActionName, DerivedMedia, SuggestionRecord
from .domain.model import candidate_id_for, derived_id


def suggestion_created(record: SuggestionRecord) -> SuggestionCreated:
    return SuggestionCreated(
        event_id=derived_id("suggestion-created", record.suggestion_id, record.revision),
        producer="suggester",
        data=SuggestionCreatedData(
            suggestion_id=record.suggestion_id, revision=record.revision,
            user_key=record.user_key, kind=record.kind, media_ids=list(record.media_ids),
            title=record.title, preview_object_key=record.preview_object_key,
            recipe=record.recipe, event_start=record.event_start, event_end=record.event_end,
            created_at=record.created_at, occasion=record.occasion,
        ),
    )


def suggestion_withdrawn(record: SuggestionRecord, reason: WithdrawalReason,
                         at: datetime) -> SuggestionWithdrawn:
    """For a record already at its withdrawal revision (`domain.revisions.withdrawn`)."""
    return SuggestionWithdrawn(
        event_id=derived_id("suggestion-withdrawn", record.suggestion_id, record.revision),
        producer="suggester",
        data=SuggestionWithdrawnData(
            suggestion_id=record.suggestion_id, revision=record.revision,
            user_key=record.user_key, kind=record.kind, reason=reason, withdrawn_at=at,
        ),
    )



def user_action(suggestion: SuggestionRecord, action: ActionName, media_id: UUID, at: datetime,
                *, new_fact: bool, derived: DerivedMedia | None) -> UserAction:
    """One photo's share of an action; repeating the same fact keeps its event id."""
    cycle = (at.isoformat(),) if new_fact else ()
    return UserAction(
        event_id=derived_id("user-action", suggestion.suggestion_id, action, media_id, *cycle),
        producer="suggester",
        data=UserActionData(
            user_key=suggestion.user_key, media_id=media_id, action=ACTION_KIND[action],
            suggestion_id=suggestion.suggestion_id,
            derived_media_id=derived.derived_media_id if derived else None, acted_at=at,
        ),
    )


def training_candidate(derived: DerivedMedia, at: datetime) -> TrainingCandidate:
    """A new AI rendition, proposed to the policy service for training."""
    return TrainingCandidate(
        event_id=derived_id("training-candidate-event", derived.derived_media_id),
        producer="suggester",
        data=TrainingCandidateData(
            candidate_id=candidate_id_for(derived.derived_media_id), user_key=derived.user_key,
            media_id=derived.original_media_id, source=CandidateSource.suggester,
            bucket=derived.bucket, object_key=derived.object_key,
            derived_media_id=derived.derived_media_id, proposed_at=at,
        ),
    )
