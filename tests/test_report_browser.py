"""The run report in a real browser: Debian's Chromium, headless, driven by Playwright.

Slow and needs Chromium: run with `make test-browser`, which installs both.
"""

import subprocess
import sys

import pytest
from browser_check import check_report


@pytest.mark.slow
def test_report_opens_from_disk_with_images_and_playable_videos(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kungfu_rl",
            "train",
            "--frames",
            "640",
            "--n-games",
            "4",
            "--rollout-len",
            "8",
            "--eval-every",
            "5",
            "--eval-games",
            "2",
            "--runs-dir",
            tmp_path,
            "--run-name",
            "r",
            "--no-progress",
            "--seed",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    report = tmp_path / "r" / "report.html"
    assert report.is_file()  # written by the training run itself
    seen = check_report(report, tmp_path / "report.png")
    assert seen["images"] and all(img["width"] > 0 for img in seen["images"])
    assert len(seen["videos"]) == 2  # the best and the worst game
    for video in seen["videos"]:
        assert video["duration"] > 1.0, video
        assert video["played"] > 0.2, video  # its clock moved while playing
    assert (tmp_path / "report.png").stat().st_size > 10_000
