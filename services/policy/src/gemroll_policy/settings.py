"""Settings of the policy service (environment prefix `GEMROLL_POLICY_`)."""

from __future__ import annotations

from gemroll_common.settings import FileSecretsSettings, IdentitySettings
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict


class PolicySettings(FileSecretsSettings):
    model_config = SettingsConfigDict(env_prefix="GEMROLL_POLICY_", extra="ignore")

    db_schema: str = "policy"
    pseudonym_secret: SecretStr = Field(
        default=SecretStr("dev-pseudonym-secret-change-me"),
        description="Key of the training pseudonym (HMAC-SHA256 of the user key). Must differ "
        "from GEMROLL_USER_KEY_SECRET, so training data cannot be joined back to accounts.",
    )
    retention_days: int = Field(default=30, ge=1, le=3650,
                                description="Media never saved or shared is erased after this.")
    retention_interval_s: float = Field(default=3600.0, gt=0,
                                        description="How often the retention sweep runs.")
    gate_enabled: bool = True
    """Run the gate loop in this process (the HTTP API works without it)."""
    batch_max_records: int = Field(default=2000, ge=1, le=50_000)
    poll_timeout_ms: int = Field(default=100, ge=1, le=10_000)
    relay_max_rows: int = Field(default=5000, ge=1, le=50_000)
    transactional_id: str = "policy-gate"
    """Kafka transactional id of the gate: fixed per deployment, so a restarted gate fences
    the old one (the topic suffix is appended)."""
    erasure_interval_s: float = Field(default=1.0, gt=0)
    monitor_interval_s: float = Field(default=5.0, gt=0)
    db_retry_max_s: float = Field(default=5.0, gt=0)
    """Backoff cap of the gate's retries, e.g. while PostgreSQL is unreachable (the gate
    waits; it never skips)."""
    consent_in_effect_timeout_s: float = Field(default=5.0, ge=0, le=60)
    """How long `PUT /v1/consent` waits for every service to act on the change before it
    answers `in_effect: false` (the change is recorded either way)."""
    training_copy_concurrency: int = Field(default=16, ge=1, le=128)
    """Metadata-stripped copies of admitted images to `training/<subject>/<candidate_id>`
    run at most this many at a time."""
    copy_round_max: int = Field(default=500, ge=1, le=10_000)
    """The copier claims at most this many waiting admissions per round."""

    def pseudonym_key(self, identity: IdentitySettings) -> str:
        """The pseudonym secret; refused when it is the user-key secret."""
        secret = self.pseudonym_secret.get_secret_value()
        if secret == identity.user_key_secret.get_secret_value():
            raise ValueError("GEMROLL_POLICY_PSEUDONYM_SECRET must differ from "
                             "GEMROLL_USER_KEY_SECRET (training data must not join to user "
                             "keys)")
        return secret
