"""The score benchmark's bookkeeping: when training games first averaged the bar."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _metrics(path, rows):
    header = "update,frames,time/elapsed_s,rollout/episode_score,rollout/episodes\n"
    body = "".join(
        f"{i},{i * 1000},{i * 60},{score},{n}\n" for i, (score, n) in enumerate(rows, start=1)
    )
    path.write_text(header + body)
    return path


def test_time_to_bar_weights_rows_by_their_games(tmp_path):
    score = _load("score")
    # rows: (mean score of the games that ended since the last row, how many)
    rows = [(9000, 2), ("", 0), (12000, 1), (10500, 1)]
    path = _metrics(tmp_path / "m.csv", rows)
    # window 3: row 3 averages (9000 + 9000 + 12000) / 3 = 10,000 exactly
    assert score.time_to_bar(path, bar=10_000, window=3) == {
        "frames": 3000,
        "minutes": 3.0,
        "update": 3,
    }
    # window 4 needs 4 games: only row 4 has them, (2 × 9000 + 12000 + 10500) / 4 = 10,125
    assert score.time_to_bar(path, bar=10_000, window=4)["update"] == 4
    assert score.time_to_bar(path, bar=10_200, window=4) is None
