"""One page per run: RUN/report.html, opened from disk with no server.

The learning curves are embedded (base64 PNG); the best and the worst game's videos sit
beside the page in RUN/videos/ and are linked relatively, so the folder can be moved whole.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import math
from pathlib import Path
from typing import Any

from ..config import Config
from ..runtime.versions import versions
from .checkpoints import read_newest_checkpoint, warn_skipped
from .errors import CheckpointError, RunFileError
from .files import read_config, read_eval_records, warn
from .metrics import frames_per_second, read_metrics
from .plots import plot_learning_curves

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px;
       color: #222; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; } .sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
td, th { border: 1px solid #ddd; padding: 0.3rem 0.7rem; text-align: right; }
th { background: #f4f4f4; } td.k { text-align: left; font-family: monospace; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; }
.card { border: 1px solid #ddd; border-radius: 8px; padding: 0.6rem 1rem; min-width: 9rem; }
.card b { display: block; font-size: 1.4rem; }
.videos { display: flex; gap: 2rem; flex-wrap: wrap; }
figure { margin: 0; } img.curves { width: 100%; }
"""


def _newest_eval(run_dir: Path) -> dict[str, Any] | None:
    """The newest readable eval-*.json of the run (kungfu eval's or training's final one);
    a damaged one is skipped with a warning."""
    records = read_eval_records(run_dir)
    return records[-1][1] if records else None


def _settings(run_dir: Path, payload: dict[str, Any], source: str) -> tuple[dict[str, Any], str]:
    """The run's settings for the page, from config.json, and a note when it cannot be read
    (then the newest checkpoint's settings are shown, where there is one)."""
    try:
        return dataclasses.asdict(read_config(run_dir)), ""
    except RunFileError as e:
        shown = f"; the settings shown are {source}'s" if payload else ""
        warn(f"{e}{shown}")
        note = f"config.json could not be read ({str(e).split(' is unreadable: ')[-1]}){shown}."
    config = dataclasses.asdict(Config.from_json(payload["config"])) if payload else {}
    return config, note


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}" if math.isfinite(value) else "–"
    if isinstance(value, int):
        return f"{value:,}"
    return html.escape(str(value))


def _video(run_dir: Path, label: str, score: float, rel: str | None) -> str:
    if not rel or not (run_dir / rel).is_file():
        return ""
    return (
        f"<figure><figcaption>{label}: {score:,.0f} points</figcaption>"
        f'<video controls muted preload="auto" width="320" src="{html.escape(rel)}"></video>'
        "</figure>"
    )


def _curves_html(run_dir: Path) -> str:
    """The learning curves, drawn to RUN/plots/ and embedded as a base64 PNG."""
    png = plot_learning_curves(
        run_dir / "metrics.csv", run_dir / "plots" / "learning_curves.png", title=run_dir.name
    )
    data = base64.b64encode(png.read_bytes()).decode()
    return f'<img class="curves" alt="learning curves" src="data:image/png;base64,{data}">'


def _evaluation_html(run_dir: Path, record: dict[str, Any] | None) -> tuple[str, str]:
    """The newest evaluation's table, and its best and worst game's videos."""
    if not record:
        return "<p>No evaluation yet: <code>kungfu eval RUN</code>.</p>", ""
    scores = record["scores"]
    table = (
        "<table><tr><th>games</th><th>mean</th><th>median</th><th>min</th><th>max</th>"
        "<th>checkpoint frames</th></tr>"
        f"<tr><td>{len(scores)}</td><td>{_fmt(record['mean'])}</td>"
        f"<td>{_fmt(record['median'])}</td><td>{_fmt(record['min'])}</td>"
        f"<td>{_fmt(record['max'])}</td><td>{_fmt(record.get('frames', '–'))}</td></tr>"
        "</table><p>Scores: " + ", ".join(f"{s:,.0f}" for s in scores) + "</p>"
    )
    videos = record.get("videos") or {}
    best = max(range(len(scores)), key=lambda i: scores[i])
    worst = min(range(len(scores)), key=lambda i: scores[i])
    videos_html = _video(run_dir, "best game", scores[best], videos.get(str(best)))
    if worst != best:
        videos_html += _video(run_dir, "worst game", scores[worst], videos.get(str(worst)))
    if videos_html:
        videos_html = f'<h2>Watch it play</h2><div class="videos">{videos_html}</div>'
    return table, videos_html


def write_report(run_dir: Path) -> Path:
    """Write RUN/report.html from the run's config, metrics, checkpoint and evaluations."""
    run_dir = Path(run_dir)
    metrics = read_metrics(run_dir / "metrics.csv") if (run_dir / "metrics.csv").is_file() else {}
    try:
        path, payload, skipped = read_newest_checkpoint(run_dir)
        warn_skipped(skipped, using=path)
        source = path.name
    except CheckpointError as e:  # the counters come from metrics.csv then
        warn_skipped(e.skipped)
        payload, source = {}, "–"
    config, note = _settings(run_dir, payload, source)
    frames = int(payload.get("frames", (metrics.get("frames") or [0])[-1]))
    elapsed = float(payload.get("elapsed_s", (metrics.get("time/elapsed_s") or [math.nan])[-1]))
    updates = int(payload.get("update", (metrics.get("update") or [0])[-1]))

    curves = _curves_html(run_dir) if metrics.get("frames") else ""
    record = _newest_eval(run_dir)
    eval_html, videos_html = _evaluation_html(run_dir, record)

    fps = frames_per_second(frames, elapsed) if math.isfinite(elapsed) else math.nan
    cards = [
        ("frames", f"{frames:,}"),
        ("updates", f"{updates:,}"),
        ("wall time", f"{elapsed / 60:,.1f} min" if math.isfinite(elapsed) else "–"),
        ("frames/s", _fmt(fps)),
        ("last evaluation mean", _fmt(record["mean"]) if record else "–"),
        ("checkpoint", html.escape(source)),
    ]
    config_rows = "".join(
        f'<tr><td class="k">{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>'
        for k, v in config.items()
    )
    version_rows = "".join(
        f'<tr><td class="k">{k}</td><td>{html.escape(v)}</td></tr>' for k, v in versions().items()
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(run_dir.name)} — kungfu_rl</title><style>{_STYLE}</style></head>
<body>
<h1>{html.escape(run_dir.name)}</h1>
<p class="sub">{html.escape(config.get("game", ""))}, recurrent actor-critic ({
        html.escape(str(config.get("core", "")))
    } core) — kungfu_rl run report</p>
<div class="cards">{"".join(f"<div class='card'>{k}<b>{v}</b></div>" for k, v in cards)}</div>
<h2>Learning curves</h2>{curves or "<p>No metrics yet.</p>"}
<h2>Evaluation (full games, raw score)</h2>{eval_html}
{videos_html}
<h2>Configuration</h2>{f"<p>{html.escape(note)}</p>" if note else ""}<table>{config_rows}</table>
<h2>Versions</h2><table>{version_rows}</table>
</body></html>
"""
    out = run_dir / "report.html"
    tmp = out.with_name(".report.html.tmp")
    tmp.write_text(page)
    tmp.replace(out)
    return out
