"""Pure rules of the suggester: grouping, planning, titles, actions. No I/O here."""

from .actions import ACTION_KIND, ActionRefused, Decision, decide, status_without_share
from .grouping import (
    GroupingRules,
    collapse_bursts,
    group_into_events,
    linked,
    place,
    select_diverse,
)
from .model import (
    ActionName,
    Consent,
    DerivedMedia,
    EventRecord,
    MediaItem,
    Moment,
    SuggestionRecord,
    SuggestionStatus,
)
from .planning import (
    Change,
    Draft,
    EventPlan,
    PlanRules,
    edit_draft,
    plan_event,
    reconcile,
    refresh_edits,
)

__all__ = [
    "ACTION_KIND", "ActionName", "ActionRefused", "Change", "Consent", "Decision", "DerivedMedia",
    "Draft", "EventPlan", "EventRecord", "GroupingRules", "MediaItem", "Moment", "PlanRules",
    "SuggestionRecord", "SuggestionStatus", "collapse_bursts", "decide", "edit_draft",
    "group_into_events", "linked", "place", "plan_event", "reconcile", "refresh_edits",
    "select_diverse", "status_without_share",
]
