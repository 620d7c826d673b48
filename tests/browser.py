"""Headless Chromium from Debian, as the tests drive it: loopback only, no sandbox as root."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--hide-scrollbars",
]


def chromium(*args: str) -> str:
    """Run Chromium once with a fresh profile; return what it printed on stdout."""
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def dom(url: str, width: int = 1280, height: int = 900) -> str:
    """Return the page's DOM after Chromium loaded and laid it out."""
    return chromium(f"--window-size={width},{height}", "--dump-dom", url)


def screenshot(url: str, name: str, width: int, height: int) -> Path:
    """Save a screenshot under tests/artifacts/ and check it is a PNG of that size."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    chromium(f"--window-size={width},{height}", f"--screenshot={path}", url)
    with Image.open(path) as image:
        assert image.size == (width, height)
        assert ink_share(image) > 0.01, f"{name} is blank: the page showed nothing"
    return path


def ink_share(image: Image.Image) -> float:
    """Return the share of pixels that differ from the page's background colour."""
    gray = image.convert("L").resize((image.width // 2, image.height // 2))
    histogram = gray.histogram()
    background = max(range(256), key=histogram.__getitem__)
    near = sum(histogram[max(0, background - 8) : background + 9])
    return 1 - near / (gray.width * gray.height)
