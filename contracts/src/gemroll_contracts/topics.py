"""The topic registry: every topic gemroll uses, its settings, events and allowed writers.

Names are versioned (`.v1`); a breaking change of an event gets a new topic version.
Every topic is keyed by the user key, so one user's events stay in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .base import Event
from .deadletter import DeadLetter
from .media import MediaClassified, MediaErased, MediaUploaded
from .suggestions import SuggestionCreated, SuggestionWithdrawn
from .training import (
    CandidateSource,
    TrainingAdmitted,
    TrainingCandidate,
    TrainingRejected,
    TrainingRetracted,
)
from .users import ActionKind, ConsentChanged, UserAction

DAY_MS = 24 * 3600 * 1000


class Visibility(StrEnum):
    private = "private"
    """Internal to gemroll; may carry user keys, never raw account ids or exact GPS."""
    public = "public"
    """A published API for other teams."""
    training = "training"
    """Training data; pseudonymous; written by the policy service alone."""


class Service(StrEnum):
    ingest = "ingest"
    classifier = "classifier"
    suggester = "suggester"
    policy = "policy"


@dataclass(frozen=True)
class Topic:
    name: str
    events: tuple[type[Event], ...]
    writers: frozenset[Service]
    partitions: int = 6
    retention_ms: int = 7 * DAY_MS
    """Records holding personal data (user keys, media ids, coarse places) never stay longer
    than a week, whatever was erased meanwhile (docs/policy-guarantees.md, per topic)."""
    cleanup_policy: str = "delete"
    visibility: Visibility = Visibility.private
    key: str = "user_key"
    description: str = ""

    @property
    def config(self) -> dict[str, str]:
        """Broker-side topic configuration (also rendered into Strimzi KafkaTopic resources)."""
        cfg = {"cleanup.policy": self.cleanup_policy, "retention.ms": str(self.retention_ms)}
        if self.visibility is Visibility.training:
            cfg["min.insync.replicas"] = "1"
        return cfg

    def accepts(self, event: Event) -> bool:
        return isinstance(event, self.events)


MEDIA_UPLOADED = Topic(
    "gemroll.media.uploaded.v1", (MediaUploaded,), frozenset({Service.ingest}),
    description="One event per accepted upload.",
)
MEDIA_CLASSIFIED = Topic(
    "gemroll.media.classified.v1", (MediaClassified,), frozenset({Service.classifier}),
    description="The classifier's verdict per media item.",
)
SUGGESTIONS = Topic(
    "gemroll.suggestions.v1", (SuggestionCreated, SuggestionWithdrawn),
    frozenset({Service.suggester}),
    retention_ms=7 * DAY_MS, visibility=Visibility.public,
    description="Public: edits, highlights and collages proposed to users. Keyed by user key; "
    "a later revision of a suggestion id replaces the earlier one; `suggestion.withdrawn` "
    "(a higher revision, no media ids) takes it back, e.g. after a photo was deleted.",
)
USER_ACTIONS = Topic(
    "gemroll.user-actions.v1", (UserAction,), frozenset({Service.ingest, Service.suggester}),
    retention_ms=7 * DAY_MS,
    description="What users did with media and suggestions.",
)
CONSENT = Topic(
    "gemroll.consent.v1", (ConsentChanged,), frozenset({Service.policy}),
    partitions=3, retention_ms=-1, cleanup_policy="compact",
    description="Consent state per user (compacted: the latest state per user key is kept).",
)
TRAINING_CANDIDATES = Topic(
    "gemroll.training.candidates.v1", (TrainingCandidate,),
    frozenset({Service.classifier, Service.suggester}),
    description="Media that could become training data; only the policy service decides.",
)
TRAINING_MEDIA = Topic(
    "gemroll.training.media.v1", (TrainingAdmitted, TrainingRetracted), frozenset({Service.policy}),
    retention_ms=30 * DAY_MS, visibility=Visibility.training,
    description="Admitted training media and retractions, pseudonymous, transactional.",
)
TRAINING_DECISIONS = Topic(
    "gemroll.training.decisions.v1", (TrainingRejected,), frozenset({Service.policy}),
    retention_ms=30 * DAY_MS, visibility=Visibility.training,
    description="Rejected candidates with their reason, pseudonymous, transactional.",
)
MEDIA_ERASED = Topic(
    "gemroll.media.erased.v1", (MediaErased,), frozenset({Service.policy}),
    retention_ms=30 * DAY_MS,
    description="Erased media: every service drops what it holds about these ids.",
)
DEAD_LETTERS = Topic(
    "gemroll.dead-letters.v1", (DeadLetter,), frozenset(Service), partitions=3,
    retention_ms=14 * DAY_MS, key="the source record's key",
    description="Records a consumer could not process, with the reason and original bytes.",
)

ALL_TOPICS: tuple[Topic, ...] = (
    MEDIA_UPLOADED,
    MEDIA_CLASSIFIED,
    SUGGESTIONS,
    USER_ACTIONS,
    CONSENT,
    TRAINING_CANDIDATES,
    TRAINING_MEDIA,
    TRAINING_DECISIONS,
    MEDIA_ERASED,
    DEAD_LETTERS,
)
TOPICS_BY_NAME: dict[str, Topic] = {t.name: t for t in ALL_TOPICS}


@dataclass(frozen=True)
class Subscription:
    """A service reading a topic in a consumer group (the group name is part of the
    deployment: renaming it rewinds or skips the topic)."""

    service: Service
    topic: Topic
    group: str


SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription(Service.ingest, CONSENT, "ingest.consent"),
    Subscription(Service.ingest, MEDIA_ERASED, "ingest.erasure"),
    Subscription(Service.ingest, MEDIA_CLASSIFIED, "ingest.pipeline-status"),
    Subscription(Service.classifier, MEDIA_UPLOADED, "classifier"),
    Subscription(Service.classifier, MEDIA_ERASED, "classifier.erasure"),
    Subscription(Service.suggester, MEDIA_CLASSIFIED, "suggester.media-classified"),
    Subscription(Service.suggester, CONSENT, "suggester.consent"),
    Subscription(Service.suggester, USER_ACTIONS, "suggester.user-actions"),
    Subscription(Service.suggester, MEDIA_ERASED, "suggester.media-erased"),
    # The training-data gate reads all four in one transactional group.
    Subscription(Service.policy, TRAINING_CANDIDATES, "policy.gate"),
    Subscription(Service.policy, USER_ACTIONS, "policy.gate"),
    Subscription(Service.policy, CONSENT, "policy.gate"),
    Subscription(Service.policy, MEDIA_UPLOADED, "policy.gate"),
)


def subscription(service: Service, topic: Topic) -> Subscription:
    """The registered subscription of `service` to `topic`."""
    for sub in SUBSCRIPTIONS:
        if sub.service is service and sub.topic is topic:
            return sub
    raise KeyError(f"{service} does not subscribe to {topic.name}")


def subscriptions_of(service: Service) -> tuple[Subscription, ...]:
    return tuple(s for s in SUBSCRIPTIONS if s.service is service)


def topic_named(name: str) -> Topic:
    try:
        return TOPICS_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown topic {name!r}; known: {sorted(TOPICS_BY_NAME)}") from None


ACTION_WRITERS: dict[ActionKind, frozenset[Service]] = {
    ActionKind.media_deleted: frozenset({Service.ingest}),
    **{kind: frozenset({Service.suggester}) for kind in ActionKind
       if kind is not ActionKind.media_deleted},
}
"""Which service may produce each kind of user action (a subset of USER_ACTIONS' writers):
the policy gate refuses an action from any other producer."""

CANDIDATE_WRITERS: dict[CandidateSource, Service] = {
    CandidateSource.classifier: Service.classifier,
    CandidateSource.suggester: Service.suggester,
}
"""The service that may propose each candidate source."""
