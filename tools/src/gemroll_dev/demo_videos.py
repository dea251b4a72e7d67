"""The demo's clips: their posters (the ingest's preview route), the highlights' recap movies
(the suggester's recap route), both saved next to the report, and each clip's `VideoView`."""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path
from typing import Any

from gemroll_cli.client import ApiError, GemrollClient

from .report import VideoView
from .samples import SampleItem

log = logging.getLogger("gemroll_dev.demo")

POSTER_PX = 640
RECAP_TRIES = 3
"""A recap is rendered on first ask; a slow first answer is asked again (it is kept)."""


def clip_ids(classified: dict[str, dict[str, Any]]) -> list[str]:
    return sorted(m for m, c in classified.items() if c.get("media_kind") == "video")


async def fetch_posters(api: GemrollClient, media_ids: list[str], out: Path) -> dict[str, Path]:
    """Each clip's poster JPEG from `GET /v1/media/{id}/preview`, into `out/posters/`."""
    folder = out / "posters"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    posters: dict[str, Path] = {}
    for media_id in media_ids:
        try:
            poster = await api.media_preview(media_id, POSTER_PX)
        except ApiError as exc:
            log.warning("no poster for clip %s: %s", media_id, exc)
            continue
        posters[media_id] = folder / f"{media_id}.jpg"
        await asyncio.to_thread(posters[media_id].write_bytes, poster)
    return posters


async def fetch_recaps(api: GemrollClient, suggestions: list[dict[str, Any]], out: Path) -> None:
    """Every highlight's recap movie (`recap_url`) into `out/recaps/<id>.mp4`; the path goes
    into the suggestion as `_recap`."""
    folder = out / "recaps"
    shutil.rmtree(folder, ignore_errors=True)
    for s in suggestions:
        if not s.get("recap_url"):
            continue
        data = await _recap(api, str(s["id"]))
        if data:
            folder.mkdir(parents=True, exist_ok=True)
            s["_recap"] = folder / f"{s['id']}.mp4"
            await asyncio.to_thread(s["_recap"].write_bytes, data)


async def _recap(api: GemrollClient, suggestion_id: str) -> bytes | None:
    for attempt in range(1, RECAP_TRIES + 1):
        try:
            return await api.recap(suggestion_id)
        except ApiError as exc:
            if 400 <= exc.status < 500 or attempt == RECAP_TRIES:
                log.warning("no recap for %s: %s", suggestion_id, exc)
                return None
            await asyncio.sleep(2.0)
    return None


def video_view(classified: dict[str, Any] | None, sample: SampleItem | None,
               poster: str | None) -> VideoView | None:
    """What the report shows of a clip; None for a photo."""
    verdict = (classified or {}).get("video")
    facts = sample.video if sample else None
    if verdict is None and facts is None:
        return None
    found = verdict or {}
    moment = found.get("best_moment")
    duration = found.get("duration_s") or (facts.duration_s if facts else 0.0)
    return VideoView(
        duration_s=float(duration), frames_sampled=int(found.get("frames_sampled", 0)),
        poster=poster, poster_time_s=found.get("poster_time_s"),
        best_moment=(float(moment["start_s"]), float(moment["end_s"])) if moment else None,
        codec=facts.codec if facts else None, fps=facts.fps if facts else None)
