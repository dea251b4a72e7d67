"""Per-upload accounting: every upload a client attempted ends in one known state, taken from
the client's own log (its answers), the API (the ingest's listing) and the topics
(read_committed). An upload without a good end state is a problem, reported with its id and
the timeline of its events in every service's log and every topic.

End states: `refused <status> <code>` (told to the client), or `accepted` followed by
`classified once` and `suggested` / `not suggested`. Problems: no final answer, a valid photo
refused, answered but not stored, never (or twice) announced or classified, two uploads
answered with one media id, and media stored that no client was told about (a silent
duplicate).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gemroll_contracts import MEDIA_CLASSIFIED, MEDIA_UPLOADED, SUGGESTIONS

from .audit import Snapshot
from .driver import UploadRecord

TIMELINE_LINES = 40


@dataclass(frozen=True)
class UploadEnd:
    upload: str
    """The upload's tag (its requests carry `<tag>-a<n>` as request id), or `stored:<id>`
    for media no upload was answered with."""
    photo: str
    state: str
    media_id: str | None = None
    problem: str | None = None
    timeline: tuple[str, ...] = ()


@dataclass
class Ledger:
    ends: list[UploadEnd] = field(default_factory=list)

    @property
    def problems(self) -> list[UploadEnd]:
        return [e for e in self.ends if e.problem]

    def states(self) -> dict[str, int]:
        return dict(Counter(e.state for e in self.ends))

    def figures(self) -> dict[str, int]:
        problems = Counter((e.problem or "").split(":")[0] for e in self.problems)
        return {"attempted": sum(1 for e in self.ends if not e.upload.startswith("stored:")),
                "accounted": sum(1 for e in self.ends if not e.problem),
                "lost": problems["lost"], "duplicated": problems["duplicated"],
                "unexplained": len(self.problems) - problems["lost"] - problems["duplicated"]}

    def report(self, limit: int = 10) -> str:
        lines = [f"{len(self.ends)} uploads: {self.states()}"]
        for end in self.problems[:limit]:
            lines.append(f"- {end.upload} ({end.photo}, media {end.media_id}): {end.problem}")
            lines += [f"    {line}" for line in end.timeline]
        return "\n".join(lines)


def _distinct_events(snap: Snapshot, topic: str) -> dict[str, set[str]]:
    by_media: dict[str, set[str]] = defaultdict(set)
    for event in snap.events[topic]:
        if event is not None and hasattr(event.data, "media_id"):
            by_media[str(event.data.media_id)].add(str(event.event_id))
    return by_media


def _suggested(snap: Snapshot) -> set[str]:
    return {str(m) for e in snap.events[SUGGESTIONS.name] if e is not None
            for m in getattr(e.data, "media_ids", ())}


def _topic_lines(snap: Snapshot, needle: str) -> list[tuple[float, str]]:
    found = []
    for name, records in snap.records.items():
        for record, event in zip(records, snap.events[name], strict=True):
            if needle.encode() in record.value:
                kind = getattr(event, "event_type", "not an event")
                found.append((record.timestamp_ms / 1000,
                              f"topic {name}[{record.partition}]@{record.offset}: {kind}"))
    return found


def _log_lines(logs: dict[str, str], needles: list[str]) -> list[tuple[float, str]]:
    found = []
    for service, text in logs.items():
        for line in text.splitlines():
            if any(n in line for n in needles):
                found.append((_log_time(line), f"{service}: {line[:300]}"))
    return found


def _log_time(line: str) -> float:
    marker = '"timestamp": "'
    start = line.find(marker)
    if start < 0:
        return 0.0
    raw = line[start + len(marker):line.find('"', start + len(marker))]
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def timeline(record: UploadRecord | None, media_id: str | None, snap: Snapshot,
             logs: dict[str, str]) -> tuple[str, ...]:
    """What the client, the services' logs and the topics saw of one upload, in time order."""
    events: list[tuple[float, str]] = []
    needles: list[str] = []
    if record is not None:
        events.append((record.started, f"client: first attempt ({record.tag})"))
        events.append((record.answered or record.started,
                       f"client: answers {record.answers} after {record.attempts} attempts"
                       + (f"; gave up: {record.gave_up}" if record.gave_up else "")))
        needles += [record.request_id(n) + '"' for n in range(1, record.attempts + 1)]
    if media_id:
        needles.append(media_id)
        events += _topic_lines(snap, media_id)
    events += _log_lines(logs, needles)
    events.sort(key=lambda e: e[0])
    return tuple(f"{_clock(t)} {what}" for t, what in events[:TIMELINE_LINES])


def _clock(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S.%f")[:-3] if t else "--:--:--"


def account_uploads(uploads: Iterable[UploadRecord], listed: dict[str, str], snap: Snapshot, *,
                    all_valid: bool, logs: Callable[[], dict[str, str]]) -> Ledger:
    """The end state of every upload in `uploads` (the client's log) against the ingest's
    `listed` media (id -> user key) and the topics in `snap`. `all_valid`: every photo sent
    was valid, so any refusal is a problem. `logs` is read only when something is wrong."""
    records = list(uploads)
    uploaded = _distinct_events(snap, MEDIA_UPLOADED.name)
    classified = _distinct_events(snap, MEDIA_CLASSIFIED.name)
    suggested = _suggested(snap)
    answered_with: dict[str, list[UploadRecord]] = defaultdict(list)
    for r in records:
        if r.media_id:
            answered_with[r.media_id].append(r)

    ends: list[tuple[UploadRecord | None, UploadEnd]] = []
    for r in records:
        photo = f"photo {r.index} of user {r.user.key[:8]}"
        if r.media_id is None:
            if r.status is None:
                problem = f"lost: no final answer ({r.gave_up})"
                ends.append((r, UploadEnd(r.tag, photo, "no answer", problem=problem)))
                continue
            state = f"refused {r.status} {(r.refusal or '').split(':')[0]}"
            problem = f"refused: a valid photo was refused ({r.refusal})" if all_valid else None
            ends.append((r, UploadEnd(r.tag, photo, state, problem=problem)))
            continue
        state, problem = _accepted_state(r.media_id, listed, uploaded, classified, suggested)
        twins = [o.tag for o in answered_with[r.media_id] if o is not r]
        if twins and problem is None:
            problem = f"duplicated: answered with the media id of {twins}"
        ends.append((r, UploadEnd(r.tag, photo, state, media_id=r.media_id, problem=problem)))
    for media_id in sorted(set(listed) - set(answered_with)):
        ends.append((None, UploadEnd(
            f"stored:{media_id[:8]}", f"media of user {listed[media_id][:8]}",
            "stored without an answer", media_id=media_id,
            problem="duplicated: stored, but no client was told (a second copy?)")))

    cache: dict[str, str] = {}

    def read_logs() -> dict[str, str]:
        if not cache:
            cache.update(logs())
        return cache

    return Ledger([end if end.problem is None else UploadEnd(
        end.upload, end.photo, end.state, end.media_id, end.problem,
        timeline(record, end.media_id, snap, read_logs())) for record, end in ends])


def _accepted_state(media_id: str, listed: dict[str, Any], uploaded: dict[str, set[str]],
                    classified: dict[str, set[str]], suggested: set[str]
                    ) -> tuple[str, str | None]:
    if media_id not in listed:
        return "answered, not stored", "lost: answered with a media id the ingest does not list"
    announced, verdicts = len(uploaded.get(media_id, ())), len(classified.get(media_id, ()))
    if announced != 1:
        what = ("lost: never announced" if announced == 0
                else f"duplicated: announced {announced} times")
        return f"accepted, announced {announced}x", what
    if verdicts != 1:
        what = ("lost: never classified" if verdicts == 0
                else f"duplicated: classified {verdicts} times")
        return f"accepted, classified {verdicts}x", what
    return ("accepted, classified once, "
            + ("suggested" if media_id in suggested else "not suggested")), None
