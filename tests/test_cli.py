"""The `kungfu` command line, run as a user would: subprocesses on a tiny budget."""

import json
import re
import subprocess
import sys

import imageio.v2 as imageio
import pytest


def kungfu(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "kungfu_rl", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    result = kungfu(
        "train",
        "--frames",
        2048,
        "--n-games",
        4,
        "--rollout-len",
        8,
        "--eval-every",
        16,
        "--eval-games",
        1,
        "--log-every",
        2,
        "--checkpoint-every",
        4,
        "--runs-dir",
        runs,
        "--run-name",
        "tiny",
        "--seed",
        1,
        "--no-progress",
    )
    assert result.returncode == 0, result.stderr
    return runs / "tiny"


def test_train_writes_a_complete_run_folder(run_dir):
    for name in ("config.json", "metrics.csv", "plots/learning_curves.png", "report.html"):
        assert (run_dir / name).is_file(), name
    assert list(run_dir.glob("events.out.tfevents.*"))
    assert list((run_dir / "checkpoints").glob("update-*.pt"))
    config = json.loads((run_dir / "config.json").read_text())
    assert config["game"] == "KungFuMaster" and config["frames"] == 2048
    header = (run_dir / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"rollout/episode_score", "loss/entropy", "eval/score_mean", "time/fps"} <= set(header)
    rows = (run_dir / "metrics.csv").read_text().splitlines()[1:]
    assert len(rows) == 8  # 16 updates, a row every 2
    # the final evaluation recorded its game for the report
    final = json.loads(next(run_dir.glob("eval-final-*.json")).read_text())
    assert len(final["scores"]) == 1 and (run_dir / final["videos"]["0"]).is_file()


def test_report_is_one_page_with_curves_table_and_videos(run_dir):
    (run_dir / "report.html").unlink()
    result = kungfu("report", run_dir)
    assert result.returncode == 0, result.stderr
    page = (run_dir / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 1  # the learning curves, embedded
    assert "<video" in page and "Evaluation" in page and "torch" in page
    assert '<td class="k">lr</td><td>0.0003</td>' in page  # settings shown exactly as set
    for src in re.findall(r'<video[^>]* src="([^"]+)"', page):
        assert not src.startswith("/") and (run_dir / src).is_file()  # relative, and there


def test_eval_plays_full_games_and_writes_a_video(run_dir):
    result = kungfu("eval", run_dir, "--games", 1, "--video")
    assert result.returncode == 0, result.stderr
    assert "mean" in result.stdout
    reports = [p for p in run_dir.glob("eval-*.json") if "final" not in p.name]
    assert len(reports) == 1
    report = json.loads(reports[0].read_text())
    assert len(report["scores"]) == 1 and report["mean"] == report["scores"][0]
    videos = [p for p in (run_dir / "videos").rglob("*.mp4") if "final" not in str(p)]
    assert len(videos) == 1
    reader = imageio.get_reader(str(videos[0]))
    first = reader.get_data(0)
    n_frames = sum(1 for _ in reader)
    assert first.shape == (420, 320, 3)  # the full-colour screen, at twice its size
    assert n_frames > 100  # a full game of Kung-Fu Master is hundreds of steps
    assert reader.get_meta_data()["fps"] == pytest.approx(15.0)  # 60 Hz / frameskip 4


def test_plot_draws_a_png(run_dir):
    png = run_dir / "plots" / "learning_curves.png"
    png.unlink()
    result = kungfu("plot", run_dir)
    assert result.returncode == 0, result.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_compares_runs_in_one_png(run_dir, tmp_path):
    out = tmp_path / "compare.png"
    result = kungfu("plot", run_dir, run_dir, "--labels", "lstm", "none", "--out", out)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = kungfu("plot", run_dir, run_dir, "--labels", "one", "--out", out)
    assert result.returncode == 2 and "--labels" in result.stderr


def test_seeds_under_one_label_share_a_colour_and_a_legend_entry(run_dir, tmp_path, monkeypatch):
    from kungfu_rl.runs import plots

    drawn = {}
    monkeypatch.setattr(plots, "_save", lambda fig, out, title: drawn.setdefault("fig", fig))
    metrics = run_dir / "metrics.csv"
    plots.plot_comparison([("LSTM", metrics), ("LSTM", metrics), ("none", metrics)], tmp_path)
    ax = drawn["fig"].axes[0]
    curves = [line for line in ax.get_lines() if line.get_linestyle() == "-"]
    assert len(curves) == 3  # every run is drawn, none is dropped for sharing a name
    assert curves[0].get_color() == curves[1].get_color() != curves[2].get_color()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend.count("LSTM: training games, EWMA@10") == 1
    assert "none: training games, EWMA@10" in legend


@pytest.mark.parametrize(
    "args, words",
    [
        (["train", "--game", "KungFuMastr"], "KungFuMaster"),
        (["train", "--n-games", "0"], "--n-games"),
        (["train", "--rollout-len", "-3"], "--rollout-len"),
        (["train", "--frames", "-1"], "--frames"),
        (["train", "--lr", "0"], "--lr"),
        (["train", "--gamma", "1.5"], "--gamma"),
        (["train", "--n-games", "many"], "--n-games"),
        (["eval", "no/such/run"], "no/such/run"),
        (["eval", "--games", "0", "."], "--games"),
        (["plot", "no/such/run"], "no/such/run"),
        (["plot", ".", "."], "--out"),
        (["train", "--lr-schedule", "cosine"], "--lr-schedule"),
        (["train", "--acting-threads", "-1"], "--acting-threads"),
        (["train", "--precision", "fp16"], "--precision"),
        (["report", "no/such/run"], "no/such/run"),
        (["dance"], "dance"),
    ],
)
def test_bad_input_gets_one_line_and_exit_2(args, words, tmp_path):
    result = kungfu(*args, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kungfu: error:") and words in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()  # nothing was started


def test_eval_of_a_folder_without_checkpoints(tmp_path):
    (tmp_path / "empty-run").mkdir()
    result = kungfu("eval", tmp_path / "empty-run")
    assert result.returncode == 2 and "no checkpoint" in result.stderr


def test_help_documents_every_option():
    result = kungfu("train", "--help")
    assert result.returncode == 0
    for flag in ("--frames", "--n-games", "--rollout-len", "--lr", "--core", "--seed"):
        assert flag in result.stdout
