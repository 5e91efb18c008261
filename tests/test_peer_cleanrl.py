"""The CleanRL runner's adaptations, curve and result JSON, without CleanRL (no network, no
envpool), and the table of docs/peers.md."""

import json

import pytest

from benchmarks.peers import adapt_cleanrl, cleanrl
from benchmarks.render import peers_table as compare


def _script_with_every_pattern() -> str:
    return "\n# ...\n".join(old for old, _ in adapt_cleanrl.REPLACEMENTS)


def test_adapt_makes_every_replacement_once():
    out = adapt_cleanrl.adapt(_script_with_every_pattern())
    for _, new in adapt_cleanrl.REPLACEMENTS:
        if new:
            assert new in out
    assert "import gymnasium as gym\n" in out
    assert "super().step(action)" not in out


@pytest.mark.parametrize("i", range(len(adapt_cleanrl.REPLACEMENTS)))
def test_adapt_refuses_a_script_that_lacks_one_pattern(i):
    parts = [old for j, (old, _) in enumerate(adapt_cleanrl.REPLACEMENTS) if j != i]
    with pytest.raises(SystemExit, match="expected one"):
        adapt_cleanrl.adapt("\n# ...\n".join(parts))


def test_adapt_refuses_a_pattern_found_twice():
    text = _script_with_every_pattern() + "\n" + adapt_cleanrl.REPLACEMENTS[0][0]
    with pytest.raises(SystemExit, match="found 2"):
        adapt_cleanrl.adapt(text)


def test_curve_is_the_mean_of_the_last_hundred_games_at_each_mark(tmp_path):
    csv = tmp_path / "c.csv"
    rows = [(1000 * (i + 1), float(i)) for i in range(250)]  # game i ends at 1000(i+1) frames
    csv.write_text("frames,score\n" + "".join(f"{f},{s}\n" for f, s in rows))
    games = cleanrl.read_curve(csv)
    assert games == rows
    curve = cleanrl.summarise(games, every=100_000)
    assert [p["frames"] for p in curve] == [100_000, 200_000, 300_000]
    assert curve[0]["mean"] == pytest.approx(sum(range(100)) / 100)  # games 0..99
    assert curve[1]["mean"] == pytest.approx(sum(range(100, 200)) / 100)
    assert curve[2]["mean"] == pytest.approx(sum(range(150, 250)) / 100)  # the last 100


def test_record_writes_the_result_json_through_the_runner(tmp_path):
    scratch, csv, out = tmp_path / "scratch", tmp_path / "c.csv", tmp_path / "r" / "seed1.json"
    scratch.mkdir()
    source = {"repository": "vwxyzjn/cleanrl", "commit": "abc", "script": cleanrl.SCRIPT}
    (scratch / "source.json").write_text(json.dumps(source))
    csv.write_text("frames,score\n" + "".join(f"{1000 * i},{i}.0\n" for i in range(1, 151)))
    cleanrl.record(scratch, csv, seed=1, frames=150_000, wall_s=61.25, out=out)
    result = json.loads(out.read_text())
    assert result["commit"] == "abc" and result["seed"] == 1 and result["frames"] == 150_000
    assert result["last_100_training_mean"] == pytest.approx(sum(range(51, 151)) / 100)
    assert result["training_games"] == 150 and result["train_wall_s"] == 61.2
    assert result["peer_versions"] == {}  # no scratch venv here to ask
    # the machine, its load and this repository's commit, as every result JSON holds them
    assert {"load_average", "uptime", "cpu_count", "machine", "versions"} <= set(result)
    assert "git_commit" in result["versions"]


def _run(seed: int, points: list[tuple[int, float]], wall_s: float = 600.0) -> dict:
    curve = [{"frames": f, "mean": m} for f, m in points]
    return {"seed": seed, "curve": curve, "train_wall_s": wall_s}


def test_score_at_takes_the_last_point_at_or_before_the_budget():
    run = _run(1, [(4_000_000, 10.0), (5_000_000, 20.0), (5_100_000, 99.0)])
    assert compare.score_at(run) == 20.0
    assert compare.score_at(_run(1, [(6_000_000, 1.0)])) is None


def test_table_says_whether_ours_reaches_the_bar():
    theirs = [_run(1, [(5_000_000, 50.0)]), _run(2, [(5_000_000, 30.0)])]  # mean 40
    short = {"CleanRL": theirs, "ours": [_run(1, [(5_000_000, 31.0)])]}  # 0.775 of 40
    text = compare.table(short)
    assert "| CleanRL | 2 | 50.0, 30.0 | 40.0 | 10 min |" in text
    assert "0.78 of CleanRL's score" in text and "falls short of the bar of 0.8" in text
    enough = {"CleanRL": theirs, "ours": [_run(1, [(5_000_000, 32.0)])]}  # exactly 0.8
    assert "meets the bar" in compare.table(enough)


def test_table_without_runs_has_no_verdict():
    text = compare.table({"CleanRL": [], "ours": []})
    assert "| CleanRL | 0 | — | — | — |" in text and "bar" not in text


def test_docs_peers_table_is_the_one_the_result_jsons_make():
    page = compare.PAGE.read_text()
    assert page == compare.replace_in(page, compare.table()), (
        "run: python benchmarks/render/peers_table.py --write"
    )
