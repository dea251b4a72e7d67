"""What the user may do with a suggestion, and the status it ends in.

    proposed ──save──▶ saved ──share──▶ shared
       │  ╲──share──────────────────────▲
       │   ╲─edit──▶ edited ──save/share─┘   (edit: `edit` suggestions only)
       └──dismiss──▶ dismissed               (only while proposed)
    shared ──unshare──▶ saved / edited / proposed (the furthest step left; share again later)

* The status is the furthest step taken: proposed < edited < saved < shared; a later `save`
  of a shared suggestion is recorded (and published) but the status stays `shared`.
* Repeating an action already taken changes nothing and publishes nothing (idempotent).
* `dismissed` and `withdrawn` are final; `share` needs every photo to be shareable (NSFW).
* `unshare` needs an earlier `share` (409 `not_shared`); it is allowed in every status,
  withdrawn too and also after opting out, because it takes something back. It removes
  `share` from the actions taken, so sharing again is a new action (and vice versa).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from gemroll_contracts import ActionKind, SuggestionKind

from .model import ActionName, SuggestionRecord, SuggestionStatus

ACTION_KIND = {
    ActionName.save: ActionKind.saved,
    ActionName.share: ActionKind.shared,
    ActionName.edit: ActionKind.edited_with_ai,
    ActionName.dismiss: ActionKind.dismissed,
    ActionName.unshare: ActionKind.unshared,
}
UNDOES = {ActionName.unshare: ActionName.share, ActionName.share: ActionName.unshare}
"""Share and unshare undo each other: taking one forgets the other, which may be taken next."""
_TARGET = {
    ActionName.save: SuggestionStatus.saved,
    ActionName.share: SuggestionStatus.shared,
    ActionName.edit: SuggestionStatus.edited,
    ActionName.dismiss: SuggestionStatus.dismissed,
}
_RANK = {
    SuggestionStatus.proposed: 0,
    SuggestionStatus.edited: 1,
    SuggestionStatus.saved: 2,
    SuggestionStatus.shared: 3,
}


class ActionRefused(Exception):
    """The action is not allowed in the suggestion's current state (HTTP 409)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Decision:
    status: SuggestionStatus
    applied: bool
    """False when the action had already been taken: nothing is published again."""
    needs_rendition: bool
    """A positive action on an `edit` suggestion materialises the AI-edited rendition."""


def status_without_share(suggestion: SuggestionRecord) -> SuggestionStatus:
    """The status once a share is taken back: the furthest step still taken."""
    if suggestion.status in (SuggestionStatus.withdrawn, SuggestionStatus.dismissed):
        return suggestion.status
    if ActionName.save in suggestion.actions:
        return SuggestionStatus.saved
    if ActionName.edit in suggestion.actions:
        return SuggestionStatus.edited
    return SuggestionStatus.proposed


def decide(suggestion: SuggestionRecord, action: ActionName) -> Decision:
    status = suggestion.status
    if action is ActionName.unshare:
        if ActionName.share in suggestion.actions:
            return Decision(status_without_share(suggestion), applied=True,
                            needs_rendition=False)
        if ActionName.unshare in suggestion.actions:
            return Decision(status, applied=False, needs_rendition=False)
        raise ActionRefused("not_shared", "this suggestion was never shared")
    if status is SuggestionStatus.withdrawn:
        raise ActionRefused("suggestion_withdrawn", "this suggestion was withdrawn")
    if action is ActionName.edit and suggestion.kind is not SuggestionKind.edit:
        raise ActionRefused("action_not_applicable",
                            f"`edit` applies to edit suggestions, not to a {suggestion.kind}")
    if action is ActionName.share and not suggestion.shareable:
        raise ActionRefused("not_shareable", "this photo may not be shared from gemroll")
    needs_rendition = suggestion.kind is SuggestionKind.edit and action is not ActionName.dismiss
    if action in suggestion.actions:
        return Decision(status, applied=False, needs_rendition=needs_rendition)
    if status is SuggestionStatus.dismissed:
        raise ActionRefused("suggestion_dismissed", "this suggestion was dismissed")
    if action is ActionName.dismiss:
        if status is not SuggestionStatus.proposed:
            raise ActionRefused("already_accepted", f"this suggestion is already {status}")
        return Decision(SuggestionStatus.dismissed, applied=True, needs_rendition=False)
    target = _TARGET[action]
    new_status = target if _RANK[target] > _RANK[status] else status
    return Decision(new_status, applied=True, needs_rendition=needs_rendition)


def acted(suggestion: SuggestionRecord, action: ActionName, decision: Decision,
          at: datetime) -> SuggestionRecord:
    """The suggestion once an applied `action` was recorded."""
    undone = UNDOES.get(action)
    return replace(suggestion, status=decision.status, updated_at=at,
                   actions=(suggestion.actions - {undone}) | {action})


def is_new_fact(suggestion: SuggestionRecord, action: ActionName) -> bool:
    """Whether taking `action` now is a new fact for the user-action topic (a new event id):
    every unshare, and a share after an unshare; otherwise the same action keeps its id."""
    undone = UNDOES.get(action)
    return action is ActionName.unshare or (undone is not None and undone in suggestion.actions)
