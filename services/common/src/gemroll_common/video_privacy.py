"""Metadata-free copies of videos: what may leave the user's own storage (training).

`copy_without_metadata` remuxes the video stream alone into MP4, without re-encoding: no
container or stream tags (ISO 6709 location, creation time, make, model, Apple's keys, user
data), no audio (a voice is personal data a visual model does not need), no timed-metadata,
subtitle or data tracks. The display rotation stays (it is no private fact). `find_metadata`
is the check an auditor runs on every result. Both work file to file: memory does not grow
with the clip.
"""

from __future__ import annotations

from pathlib import Path

import av

from .video import VideoUnreadable, parse_iso6709

HARMLESS_TAGS = frozenset({
    "major_brand", "minor_version", "compatible_brands", "encoder", "language",
    "handler_name", "vendor_id", "duration"})
"""Tags a copy may carry: the format's own bookkeeping, nothing about the user or the device."""


def copy_without_metadata(source: str | Path, target: str | Path, *,
                          start_s: float | None = None, end_s: float | None = None) -> None:
    """The video stream of `source`, remuxed into MP4 at `target` (see the module's docstring),
    from the key frame at or before `start_s` to `end_s` when given (a trim without
    re-encoding); `VideoUnreadable` when `source` has no video FFmpeg can read, or the result
    fails the audit."""
    try:
        with (av.open(str(source), metadata_errors="ignore") as src,
              av.open(str(target), "w", format="mp4", options={"movflags": "+faststart"}) as dst):
            if not src.streams.video:
                raise VideoUnreadable("the file has no video stream")
            video = src.streams.video[0]
            out = dst.add_stream_from_template(video)
            out.metadata.clear()
            _copy_packets(src, video, dst, out, start_s, end_s)
    except av.FFmpegError as exc:
        raise VideoUnreadable(f"not a readable video: {type(exc).__name__}") from exc
    found = find_metadata(target)
    if found:
        raise VideoUnreadable(f"the copy still carries {', '.join(found)}")


def _copy_packets(src: av.container.InputContainer, video: av.VideoStream,
                  dst: av.container.OutputContainer, out: av.VideoStream,
                  start_s: float | None, end_s: float | None) -> None:
    base = video.time_base
    first = None
    if start_s is not None and base:
        src.seek((video.start_time or 0) + int(start_s / base), stream=video, backward=True,
                 any_frame=False)
    for packet in src.demux(video):
        if packet.size == 0:  # the demuxer's flush packet
            continue
        if first is None:
            first = packet.dts if packet.dts is not None else packet.pts
        if end_s is not None and packet.pts is not None and base and float(
                (packet.pts - (video.start_time or 0)) * base) >= end_s and packet.is_keyframe:
            break
        if start_s is not None and first is not None:  # the trim starts at zero
            packet.pts = None if packet.pts is None else packet.pts - first
            packet.dts = None if packet.dts is None else packet.dts - first
        packet.stream = out
        dst.mux(packet)


def find_metadata(path: str | Path) -> list[str]:
    """What a video at `path` carries beyond its pictures: tags outside `HARMLESS_TAGS`, a
    location anywhere in the tags, and any stream that is not video."""
    found: list[str] = []
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            tags = [("container", container.metadata)]
            tags += [(f"stream {s.index}", s.metadata) for s in container.streams]
            for where, values in tags:
                for key, value in values.items():
                    if key.lower() not in HARMLESS_TAGS or parse_iso6709(str(value)):
                        found.append(f"{where} tag {key}")
            found += [f"{s.type} stream {s.index}" for s in container.streams
                      if s.type != "video"]
    except av.FFmpegError as exc:
        raise VideoUnreadable(f"not a readable video: {type(exc).__name__}") from exc
    return found
