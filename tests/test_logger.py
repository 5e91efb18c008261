"""metrics.csv is open: a key added later, or a run folder from an older version, still reads."""

import csv
import math

import pytest
from test_resume import FRAMES_PER_UPDATE, tiny

from kungfu_rl.runs.metrics import COLUMNS, MetricsLogger, read_metrics
from kungfu_rl.runs.plots import plot_learning_curves
from kungfu_rl.runs.report import write_report
from kungfu_rl.training.launch import resume, train

OLDER = ["update", "frames", "time/elapsed_s", "rollout/episode_score", "loss/entropy"]
"""A column set an older version wrote: no losses but entropy, no evaluation, no fps."""


def _write(path, header, rows):
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([header, *rows])


def test_an_older_column_set_reads_plots_and_gets_widened(tmp_path):
    path = tmp_path / "metrics.csv"
    _write(path, OLDER, [[1, 320, 1.5, 100, 2.6], [2, 640, 3.0, "", 2.5]])
    m = read_metrics(path)
    assert m["update"] == [1.0, 2.0] and m["rollout/episode_score"][0] == 100
    assert math.isnan(m["rollout/episode_score"][1])
    assert all(math.isnan(v) for v in m["loss/policy"])  # a column it never had: blank
    plot_learning_curves(path, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 0

    logger = MetricsLogger(tmp_path, tensorboard=False)  # this version appends to it
    logger.record("loss/policy", 0.25)
    logger.record("loss/brand_new", 7.0)  # a key no version had before
    logger.dump(3, 960)
    logger.close()
    with path.open(newline="") as f:
        header, *rows = list(csv.reader(f))
    assert header[: len(OLDER)] == OLDER  # old columns keep their place
    assert set(COLUMNS) <= set(header) and header[-1] == "loss/brand_new"
    assert all(len(r) == len(header) for r in rows)
    m = read_metrics(path)
    assert m["update"] == [1.0, 2.0, 3.0] and m["rollout/episode_score"][0] == 100
    assert m["loss/policy"][2] == 0.25 and m["loss/brand_new"][2] == 7.0
    assert math.isnan(m["loss/brand_new"][0])


def test_an_older_run_folder_resumes_and_reports_without_losing_rows(tmp_path):
    run_dir = train(tiny(tmp_path, updates=8)).run_dir
    path = run_dir / "metrics.csv"
    with path.open(newline="") as f:
        table = list(csv.DictReader(f))
    _write(path, OLDER, [[row[k] for k in OLDER] for row in table])  # as an old version left it
    write_report(run_dir)
    resume(run_dir, {"frames": 12 * FRAMES_PER_UPDATE})
    m = read_metrics(path)
    assert m["update"] == [float(u) for u in range(1, 13)]  # no row dropped, none doubled
    assert all(math.isnan(v) for v in m["loss/policy"][:8])  # the old rows: blank there
    assert all(math.isfinite(v) for v in m["loss/policy"][8:])  # the new ones: measured
    assert "<img" in (run_dir / "report.html").read_text()


def test_the_learning_rate_and_explained_variance_are_columns(tmp_path):
    config = tiny(tmp_path, updates=4, lr_schedule="linear")
    run_dir = train(config, progress=False).run_dir
    m = read_metrics(run_dir / "metrics.csv")
    # each row's rate is the one its update took: lr_at the frames before that update
    expected = [config.lr_at((u - 1) * FRAMES_PER_UPDATE) for u in range(1, 5)]
    assert m["loss/lr"] == [float(f"{lr:.6g}") for lr in expected]
    assert m["loss/lr"][0] > m["loss/lr"][-1] > 0
    header = (run_dir / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"loss/lr", "loss/explained_variance"} <= set(header)
    assert all(v <= 1 for v in m["loss/explained_variance"] if math.isfinite(v))

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logger = MetricsLogger(tmp_path)  # what the update gives reaches both files
    logger.record("loss/explained_variance", 0.5)
    logger.record("loss/lr", 1e-4)
    logger.dump(1, 32)
    logger.close()
    assert read_metrics(tmp_path / "metrics.csv")["loss/explained_variance"] == [0.5]
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert [e.value for e in events.Scalars("loss/explained_variance")] == [0.5]
    assert events.Scalars("loss/lr")[0].value == pytest.approx(1e-4)

    # an older metrics.csv, without them, reads with blank cells there
    _write(tmp_path / "old.csv", OLDER, [[1, 320, 1.5, 100, 2.6]])
    old = read_metrics(tmp_path / "old.csv")
    assert math.isnan(old["loss/lr"][0]) and math.isnan(old["loss/explained_variance"][0])
