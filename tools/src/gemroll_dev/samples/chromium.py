"""Real screenshots: headless Chromium renders each generated page at a device's resolution.

One Chromium process per worker is driven over the DevTools protocol on a pipe
(`--remote-debugging-pipe`: no node, no websocket, no network), which takes a screenshot in
well under a second instead of a browser start per page. Screenshots are cached under
`<cache>/screens/<key>.png`, the key being a hash of everything that decides the pixels (page
HTML, viewport, flags, embedded assets), so a rebuild only renders pages it has not seen.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import io
import json
import os
import re
import select
import shutil
import subprocess
import sysconfig
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image

from .catalog import PHOTO_BY_KEY, VIEWPORT_BY_NAME, Viewport
from .pages import PageContext, render_page
from .plan import ScreenRecipe
from .system import SamplesError, photo_path

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--hide-scrollbars", "--mute-audio", "--no-default-browser-check",
)
# Real source code shown in the editor screenshots (from this Python's standard library).
CODE_FILES = ("json/decoder.py", "textwrap.py", "shlex.py", "heapq.py", "fractions.py",
              "csv.py", "graphlib.py", "colorsys.py")
TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ScreenJob:
    key: str
    url: str
    viewport: Viewport
    png_path: Path


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    raise SamplesError("Chromium is missing: install the Debian package `chromium`")


@cache
def chromium_version() -> str:
    result = subprocess.run([chromium_binary(), "--version"], capture_output=True, text=True,
                            check=False)
    lines = result.stdout.strip().splitlines()
    return lines[0] if lines else "unknown"


class ScreenshotCache:
    def __init__(self, root: Path) -> None:
        self.pages = root / "pages"
        self.assets = self.pages / "assets"
        self.screens = root / "screens"
        for folder in (self.pages, self.assets, self.screens):
            folder.mkdir(parents=True, exist_ok=True)

    def job(self, recipe: ScreenRecipe, when: datetime) -> ScreenJob:
        """Write the page (and the photos it shows) and say where its screenshot goes."""
        viewport = VIEWPORT_BY_NAME[recipe.viewport]
        used: list[str] = []

        def photo_url(key: str) -> str:
            used.append(self._asset(key))
            return f"assets/{key}.jpg"

        doc_url, doc_hash = "", ""
        if recipe.page == "docs":
            assert recipe.doc_page is not None
            doc_url, doc_hash = _doc_url(Path(recipe.doc_page), recipe.anchor)
        code = _code_text(recipe.page_seed) if recipe.page == "code" else ""
        ctx = PageContext(recipe.page, recipe.page_seed, viewport, recipe.dark_theme, when,
                          photo_url, code, doc_url)
        html = render_page(ctx)
        digest = hashlib.sha256("\n".join(
            [html, viewport.name, str(viewport.pixels), str(viewport.scale), " ".join(FLAGS),
             doc_hash, *sorted(used)]).encode()).hexdigest()[:20]
        html_path = self.pages / f"{recipe.page}-{digest}.html"
        if not html_path.exists():
            _atomic_write(html_path, html.encode())
        return ScreenJob(digest, html_path.resolve().as_uri(), viewport,
                         self.screens / f"{digest}.png")

    def render(self, jobs: list[ScreenJob], workers: int = 2) -> int:
        """Take the screenshots that are not cached yet; returns how many were taken."""
        return render_jobs(jobs, workers)

    def _asset(self, key: str) -> str:
        """A downsized copy of a real photo for pages to embed; returns its identity."""
        target = self.assets / f"{key}.jpg"
        if not target.exists():
            image = Image.open(photo_path(PHOTO_BY_KEY[key]))
            image.draft("RGB", (1800, 1800))
            image = image.convert("RGB")
            image.thumbnail((900, 900), Image.Resampling.LANCZOS)
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
            image.save(tmp, "JPEG", quality=85)
            tmp.replace(target)
        return f"{key}:{target.stat().st_size}"


class Browser:
    """A headless Chromium driven over the DevTools protocol on fds 3 and 4."""

    def __init__(self) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="gemroll-chromium-")
        to_child, self._write = os.pipe()
        self._read, from_child = os.pipe()

        def wire_fds() -> None:  # runs in the child before exec
            # Move both ends out of the way first: a pipe end may itself be fd 3 or 4.
            high_in = fcntl.fcntl(to_child, fcntl.F_DUPFD, 10)
            high_out = fcntl.fcntl(from_child, fcntl.F_DUPFD, 10)
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)

        self._process = subprocess.Popen(
            [chromium_binary(), *FLAGS, "--remote-debugging-pipe",
             f"--user-data-dir={self._profile.name}/data", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=wire_fds,
        )
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next_id = 0

    def shoot_all(self, jobs: list[ScreenJob]) -> None:
        for job in jobs:
            self.shoot(job)

    def shoot(self, job: ScreenJob) -> None:
        vp = job.viewport
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"]
        try:
            self.call("Page.enable", {}, session)
            self.call("Emulation.setDeviceMetricsOverride",
                      {"width": vp.css_width, "height": vp.css_height,
                       "deviceScaleFactor": vp.scale, "mobile": vp.phone}, session)
            self.call("Page.navigate", {"url": job.url}, session)
            self._wait(lambda m: m.get("method") == "Page.loadEventFired"
                       and m.get("sessionId") == session)
            data = self.call("Page.captureScreenshot", {"format": "png"}, session)["data"]
        finally:
            self.call("Target.closeTarget", {"targetId": target})
        png = base64.b64decode(data)
        with Image.open(io.BytesIO(png)) as shot:
            if shot.size != vp.pixels:
                raise SamplesError(f"Chromium made a {shot.size} screenshot of {job.url}, "
                                   f"expected {vp.pixels}")
        _atomic_write(job.png_path, png)

    def call(self, method: str, params: dict[str, Any], session: str | None = None) -> Any:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        wanted = self._next_id
        reply = self._wait(lambda m: m.get("id") == wanted)
        if "error" in reply:
            raise SamplesError(f"Chromium refused {method}: {reply['error']}")
        return reply.get("result", {})

    def _wait(self, match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            while b"\0" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self._read], [], [], left)[0]:
                    raise SamplesError(f"Chromium did not answer within {TIMEOUT_S:.0f} s")
                chunk = os.read(self._read, 1 << 20)
                if not chunk:
                    raise SamplesError("Chromium exited while taking screenshots")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            message = json.loads(raw)
            if match(message):
                return message

    def close(self) -> None:
        try:
            if self._process.poll() is None:
                os.write(self._write, json.dumps(
                    {"id": 0, "method": "Browser.close", "params": {}}).encode() + b"\0")
                self._process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self._process.kill()
            self._process.wait()
        finally:
            for fd in (self._write, self._read):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._profile.cleanup()


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.{id(data)}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _doc_url(path: Path, anchor: int) -> tuple[str, str]:
    """The real doc page scrolled to one of its sections, and a hash of its content."""
    if not path.exists():
        raise SamplesError(f"{path} is missing: install the Debian package debian-reference-en")
    content = path.read_bytes()
    ids = re.findall(rb'id="([A-Za-z0-9_.-]+)"', content)
    fragment = f"#{ids[anchor % len(ids)].decode()}" if ids and anchor % 4 else ""
    return path.resolve().as_uri() + fragment, hashlib.sha256(content).hexdigest()


def _code_text(seed: int) -> str:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    path = stdlib / CODE_FILES[seed % len(CODE_FILES)]
    return path.read_text(encoding="utf-8") if path.exists() else ""


def render_jobs(jobs: list[ScreenJob], workers: int = 2) -> int:
    """Take the screenshots whose PNG does not exist yet, with up to `workers` browsers;
    returns how many were taken."""
    todo = list({job.key: job for job in jobs if not job.png_path.exists()}.values())
    if not todo:
        return 0
    browsers = [Browser() for _ in range(max(1, min(workers, len(todo))))]
    try:
        shares = [todo[i:: len(browsers)] for i in range(len(browsers))]
        with ThreadPoolExecutor(max_workers=len(browsers)) as pool:
            list(pool.map(lambda pair: pair[0].shoot_all(pair[1]),
                          zip(browsers, shares, strict=True)))
    finally:
        for browser in browsers:
            browser.close()
    return len(todo)
