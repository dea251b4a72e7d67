"""Whether a roll built earlier can be used as it is: `current_roll(folder, size, seed)`."""

from __future__ import annotations

from pathlib import Path

from .manifest import Manifest, SizeName
from .plan import plan_camera_roll
from .video_plan import plan_clips


def planned_names(size: SizeName, seed: int) -> list[str]:
    """The file names a roll of this size and seed has today, in manifest order."""
    return ([i.file_name for i in plan_camera_roll(size, seed)]
            + [c.file_name for c in plan_clips(size, seed)])


def current_roll(folder: Path, size: SizeName, seed: int) -> Manifest | None:
    """The manifest in `folder` when it is today's plan (a roll from before the plan changed,
    e.g. without clips, is not) and every file is there with its size; else None."""
    try:
        manifest = Manifest.read(folder)
    except (FileNotFoundError, ValueError):
        return None
    if [i.file_name for i in manifest.items] != planned_names(size, seed):
        return None
    intact = all((folder / i.file_name).is_file()
                 and (folder / i.file_name).stat().st_size == i.size_bytes
                 for i in manifest.items)
    return manifest if intact else None
