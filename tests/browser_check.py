"""Open a report.html in headless Chromium (Debian's, driven by Playwright) and check it.

    python tests/browser_check.py RUN/report.html docs/report_screenshot.png

Checks that every image loaded (natural width > 0) and that every video has a positive
duration and plays (its clock moves); saves a full-page screenshot.
"""

from __future__ import annotations

import sys
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# Without the networking flags Chromium keeps trying to reach Google, which this
# machine's closed network refuses; --no-sandbox because the tests run as root.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]

VIDEO_CHECK = """async (video) => {
    if (video.readyState < 1) {
        await new Promise((ok, fail) => {
            video.addEventListener('loadedmetadata', ok, {once: true});
            video.addEventListener('error', () => fail(new Error('video error ' +
                (video.error && video.error.code))), {once: true});
        });
    }
    const duration = video.duration;
    await video.play();
    await new Promise(ok => setTimeout(ok, 700));
    const played = video.currentTime;
    video.pause();
    video.currentTime = 0;
    return {src: video.getAttribute('src'), duration, played};
}"""


def check_report(page_path: Path, screenshot: Path) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(Path(page_path).resolve().as_uri())
        page.wait_for_load_state("load")
        images = page.eval_on_selector_all(
            "img", "imgs => imgs.map(i => ({alt: i.alt, width: i.naturalWidth}))"
        )
        videos = [v.evaluate(VIDEO_CHECK) for v in page.query_selector_all("video")]
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    return {"images": images, "videos": videos}


if __name__ == "__main__":
    result = check_report(Path(sys.argv[1]), Path(sys.argv[2]))
    print(result)
