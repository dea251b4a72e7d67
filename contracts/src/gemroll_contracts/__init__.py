"""gemroll's event contracts: the single source of truth for event shapes and topic names."""

from .base import READ_EXTRA, Event, StrictModel, new_trace_id, utcnow
from .deadletter import DeadLetter, DeadLetterData
from .media import (
    CONTENT_TYPES,
    MEDIA_KINDS,
    PHOTO_TYPES,
    VIDEO_TYPES,
    Category,
    ErasureReason,
    MediaClassified,
    MediaClassifiedData,
    MediaErased,
    MediaErasedData,
    MediaUploaded,
    MediaUploadedData,
    ModelInfo,
    Moment,
    Quality,
    VideoFacts,
    VideoVerdict,
)
from .registry import ALL_EVENTS, AnyEvent, parse_event
from .suggestions import (
    ON_THIS_DAY,
    Crop,
    EditRecipe,
    SuggestionCreated,
    SuggestionCreatedData,
    SuggestionKind,
    SuggestionWithdrawn,
    SuggestionWithdrawnData,
    WithdrawalReason,
)
from .topics import (
    ACTION_WRITERS,
    ALL_TOPICS,
    CANDIDATE_WRITERS,
    CONSENT,
    DEAD_LETTERS,
    MEDIA_CLASSIFIED,
    MEDIA_ERASED,
    MEDIA_UPLOADED,
    SUBSCRIPTIONS,
    SUGGESTIONS,
    TOPICS_BY_NAME,
    TRAINING_CANDIDATES,
    TRAINING_DECISIONS,
    TRAINING_MEDIA,
    USER_ACTIONS,
    Service,
    Subscription,
    Topic,
    Visibility,
    subscription,
    subscriptions_of,
    topic_named,
)
from .training import (
    AdmissionBasis,
    CandidateSource,
    RejectionReason,
    RetractionReason,
    TrainingAdmitted,
    TrainingAdmittedData,
    TrainingCandidate,
    TrainingCandidateData,
    TrainingRejected,
    TrainingRejectedData,
    TrainingRetracted,
    TrainingRetractedData,
)
from .users import ActionKind, ConsentChanged, ConsentChangedData, UserAction, UserActionData

CONTRACTS_VERSION = "1.5.0"

__all__ = [
    "ACTION_WRITERS", "CANDIDATE_WRITERS",
    "ALL_EVENTS", "ALL_TOPICS", "CONSENT", "CONTENT_TYPES", "CONTRACTS_VERSION", "DEAD_LETTERS",
    "MEDIA_CLASSIFIED", "MEDIA_ERASED", "MEDIA_UPLOADED", "ON_THIS_DAY", "READ_EXTRA",
    "MEDIA_KINDS", "PHOTO_TYPES", "SUBSCRIPTIONS", "VIDEO_TYPES",
    "SUGGESTIONS", "TOPICS_BY_NAME",
    "TRAINING_CANDIDATES",
    "TRAINING_DECISIONS", "TRAINING_MEDIA", "USER_ACTIONS",
    "ActionKind", "AdmissionBasis", "AnyEvent", "CandidateSource", "Category", "ConsentChanged",
    "ConsentChangedData", "Crop", "DeadLetter", "DeadLetterData", "EditRecipe", "ErasureReason",
    "Event", "MediaClassified", "MediaClassifiedData", "MediaErased", "MediaErasedData",
    "MediaUploaded", "MediaUploadedData", "ModelInfo", "Moment", "Quality", "RejectionReason",
    "RetractionReason", "Service", "StrictModel", "SuggestionCreated", "SuggestionCreatedData",
    "Subscription", "SuggestionKind", "SuggestionWithdrawn", "SuggestionWithdrawnData", "Topic",
    "TrainingAdmitted", "TrainingAdmittedData", "TrainingCandidate",
    "TrainingCandidateData", "TrainingRejected", "TrainingRejectedData", "TrainingRetracted",
    "TrainingRetractedData", "UserAction", "UserActionData", "VideoFacts", "VideoVerdict",
    "Visibility", "WithdrawalReason",
    "new_trace_id",
    "parse_event", "subscription", "subscriptions_of", "topic_named", "utcnow",
]
