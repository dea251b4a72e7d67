"""The suggester's settings (`GEMROLL_SUGGESTER_*`); infrastructure comes from gemroll_common."""

from __future__ import annotations

from datetime import timedelta

from gemroll_common.settings import FileSecretsSettings
from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from .domain import GroupingRules, PlanRules


class SuggesterSettings(FileSecretsSettings):
    model_config = SettingsConfigDict(env_prefix="GEMROLL_SUGGESTER_", extra="ignore")

    db_schema: str = "suggester"
    log_level: str = "INFO"

    # grouping and the quiet period
    event_gap_seconds: float = Field(3 * 3600, gt=0, description="Max capture-time gap in events.")
    event_distance_km: float = Field(25.0, ge=0, description="Max distance between linked photos.")
    quiet_seconds: float = Field(120.0, ge=0, description="Plan an event once quiet this long.")
    intake_batch_max: int = Field(
        500, ge=1, le=2000, description="Classifications taken in per transaction (one poll).")
    intake_batch_timeout_ms: int = Field(
        20, ge=0, le=5000, description="How long a poll waits to fill a batch.")
    planner_interval_seconds: float = Field(1.0, gt=0)
    planner_batch: int = Field(8, ge=1, description="Events claimed per planner round.")
    planner_lease_seconds: float = Field(
        30.0, gt=0, description="A claimed event's lease, renewed every third of it while its "
        "planner works: a planner that died is replaced once it runs out.")
    outbox_interval_seconds: float = Field(
        0.5, gt=0, description="How often the outbox relay looks for rows nobody woke it for.")
    orphan_sweep_seconds: float = Field(
        600.0, gt=0, description="How often renditions whose action never committed are deleted.")
    orphan_grace_seconds: float = Field(
        3600.0, gt=0, description="A recorded rendition without a committed action is an orphan "
        "once this old.")

    # what to suggest
    nsfw_threshold: float = Field(0.5, ge=0, le=1, description="At or above: never shared.")
    nsfw_unknown_is_safe: bool = Field(False, description="Share photos without an NSFW score.")
    highlight_size: int = Field(6, ge=1, le=9)
    highlight_min: int = Field(3, ge=1, le=9)
    collage_size: int = Field(6, ge=2, le=9)
    collage_min: int = Field(2, ge=2, le=9)
    edits_per_event: int = Field(2, ge=0, le=20)
    memories_interval_seconds: float = Field(
        3600.0, ge=0, description="How often the \"on this day\" pass runs (0: never).")

    # rendering
    preview_max_side: int = Field(1280, ge=64, le=4096)
    collage_width: int = Field(1600, ge=200, le=4096)
    cover_width: int = Field(1200, ge=200, le=4096)
    rendition_max_side: int = Field(0, ge=0, description="0 = the original's full resolution.")
    jpeg_quality: int = Field(88, ge=50, le=100)
    render_concurrency: int = Field(2, ge=1, le=16)
    recap_width: int = Field(640, ge=64, le=3840, multiple_of=2)
    recap_height: int = Field(360, ge=64, le=2160, multiple_of=2)
    recap_fps: int = Field(24, ge=1, le=60)
    recap_still_seconds: float = Field(2.5, gt=0, le=10)
    recap_max_video_bytes: int = Field(
        4 * 1024**3, ge=1, description="Larger source videos are left out of recap movies.")

    # share links
    share_link_days: float = Field(30.0, gt=0, le=365, description="A share link's lifetime.")
    share_links_per_minute: int = Field(
        60, ge=1, description="Requests per minute one client address may make to share pages.")

    @model_validator(mode="after")
    def _consistent(self) -> SuggesterSettings:
        self.plan_rules  # noqa: B018 - raises ValueError on inconsistent sizes
        return self

    @property
    def grouping(self) -> GroupingRules:
        return GroupingRules(gap=timedelta(seconds=self.event_gap_seconds),
                             max_distance_km=self.event_distance_km)

    @property
    def plan_rules(self) -> PlanRules:
        return PlanRules(
            highlight_size=self.highlight_size, highlight_min=self.highlight_min,
            collage_size=self.collage_size, collage_min=self.collage_min,
            edits_per_event=self.edits_per_event, nsfw_threshold=self.nsfw_threshold,
            nsfw_unknown_is_safe=self.nsfw_unknown_is_safe,
        )
