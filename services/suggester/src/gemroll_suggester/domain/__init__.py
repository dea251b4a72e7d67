"""Pure rules of the suggester: grouping, planning, retraction, intake, titles, actions.
No I/O here."""

from .actions import (
    ACTION_KIND,
    UNDOES,
    ActionRefused,
    Decision,
    acted,
    decide,
    is_new_fact,
    status_without_share,
)
from .grouping import (
    GroupingRules,
    collapse_bursts,
    group_into_events,
    linked,
    place,
    select_diverse,
)
from .intake import Outcome, media_item, refusal
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
from .planning import Draft, EventPlan, PlanRules, edit_draft, plan_event
from .retraction import WITHDRAWN_AT_OPT_OUT, follows_split, merged, opted_out, without_media
from .revisions import Change, reconcile, refresh_edits

__all__ = [
    "ACTION_KIND", "UNDOES", "WITHDRAWN_AT_OPT_OUT", "ActionName", "ActionRefused", "Change",
    "Consent", "Decision", "DerivedMedia", "Draft", "EventPlan", "EventRecord", "GroupingRules",
    "MediaItem", "Moment", "Outcome", "PlanRules", "SuggestionRecord", "SuggestionStatus",
    "acted", "collapse_bursts", "decide", "edit_draft", "follows_split", "group_into_events",
    "is_new_fact", "linked", "media_item", "merged", "opted_out", "place", "plan_event",
    "reconcile", "refresh_edits", "refusal", "select_diverse", "status_without_share",
    "without_media",
]
