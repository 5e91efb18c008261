"""The renderers: docs/suite.md, its curves and the table `kungfu games` reads are what the
committed JSONs give, and change when a figure in them does. (README.md's tables and
docs/results.md's: tests/test_readme.py; docs/peers.md's: tests/test_peer_cleanrl.py.)"""

import dataclasses
import json
import shutil
from pathlib import Path

from benchmarks import protocol
from benchmarks.render import common, measured_games, suite_page, suite_runs
from kungfu_rl.config import Config

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = dataclasses.asdict(Config())


def _suite_result(game, frames, mean, tag="defaults", seed=0, schedule="constant"):
    return {
        "tag": tag,
        "game": game,
        "seed": seed,
        "frames": frames,
        "train_wall_s": 754.0,
        "eval": {
            "mean": mean,
            "median": mean,
            "min": mean - 1,
            "max": mean + 1,
            "scores": [mean] * 20,
            "seed": 12345,
        },
        "last_100_training_mean": mean - 2,
        "curve": [
            {"frames": 0, "minutes": 0.0, "mean": -21.0},
            {"frames": frames, "minutes": 12.5, "mean": mean - 2},
        ],
        "command": f"kungfu train --game {game} --frames {frames} --seed {seed}",
        "load_before": "0.10 0.20 0.30",
        "config": {**DEFAULTS, "precision": "bf16", "lr_schedule": schedule},
    }


def _named(results: list[dict]) -> dict[str, dict]:
    """Results as measured_games reads them: {the JSON's path: its contents}."""
    return {f"r{i}.json": r for i, r in enumerate(results)}


def test_suite_doc_puts_our_runs_beside_the_published_figures(tmp_path, monkeypatch):
    results = [
        _suite_result("Pong", 40_000_000, 19.5),
        _suite_result("Pong", 10_000_000, 3.0),
        _suite_result("Breakout", 10_000_000, 40.0, tag="clip"),  # not the doc's settings
    ]
    results[2]["config"]["reward_mode"] = "clip"
    doc = suite_page.build_doc(results, "defaults")
    row = next(line for line in doc.splitlines() if line.startswith("| Pong |"))
    assert "19.5 (17.5)" in row and "12 min 34 s" in row and "10.2" in row and "16.7" in row
    assert "| Breakout | not run yet |" in doc
    breakout_long = _suite_result("Breakout", 40_000_000, 9.2, tag="long-max")
    breakout_worse = _suite_result("Breakout", 40_000_000, 4.1, tag="lifecut")
    other_only = suite_page.build_doc([*results, breakout_worse, breakout_long], "defaults")
    # a game that reached 40M frames with other settings only shows its best such run, named
    assert "| Breakout | not with these; `--tag long-max`: 9.2 (7.2) | 12 min 34 s |" in other_only
    assert "| Pong | 19.5 (17.5) |" in other_only  # a game with the table's own run keeps it
    for source in suite_runs.COLUMNS:  # every source's protocol is stated
        assert f"**{source}**" in doc
    every_run = doc.split("## Every run")[1]
    assert every_run.count("kungfu train --game") == 3
    assert every_run.count("| none |") == 2 and "| `--reward-mode clip` |" in every_run
    assert " in fp32" not in every_run  # the helper's runs name no precision
    results[2]["config"]["precision"] = "fp32"  # a CPU without native bf16 marks its time
    every_run = suite_page.build_doc(results, "defaults").split("## Every run")[1]
    assert every_run.count("12 min 34 s in fp32") == 1
    assert suite_page.draw_curves(results, tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 1000
    assert not suite_page.draw_curves(results[2:], tmp_path / "none.png")  # none at the defaults
    measured = measured_games.measured_games(_named(results), "defaults")
    pong = {"frames": 40_000_000, "seed": 0, "mean": 19.5, "games": 20, "settings": ""}
    assert measured == {"Pong": {**pong, "source": "r0.json"}}
    budget = doc.split("## 10M frames")[1].split("## Every run")[0]
    assert "| Pong | 10M | bf16 | 3.0 | 1.0 | 57% |" in budget  # (1 + 20.7) / (17.5 + 20.7)
    assert "enough for: none so far. Not enough (40M frames learn clearly more): Pong." in budget
    # what the renderer writes is what `kungfu games` reads
    from kungfu_rl.envs import games as envs

    suite = tmp_path / "suite"
    suite.mkdir()
    for i, r in enumerate(results):
        (suite / f"r{i}.json").write_text(json.dumps(r))
    table = tmp_path / "measured.json"
    table.write_text(measured_games.table(suite))
    assert measured_games.table(suite) == table.read_text()  # the same JSONs, the same bytes
    monkeypatch.setattr(envs, "MEASURED_GAMES", table)
    assert envs.measured_games()["Pong"]["mean"] == 19.5


def test_suite_takes_the_budget_curve_from_a_longer_constant_rate_run():
    qbert = _suite_result("Qbert", 40_000_000, 10_000.0)
    qbert["curve"] = [
        {"frames": f, "minutes": f / 1e6, "mean": m}
        for f, m in [(0, 150), (5_000_000, 6_000), (10_000_000, 9_500), (40_000_000, 9_998)]
    ]
    linear = _suite_result("Breakout", 40_000_000, 300.0, schedule="linear")  # not the same run
    runs = suite_runs.budget_runs([qbert, linear])
    assert list(runs) == ["Qbert"]
    assert suite_runs.curve_to(runs["Qbert"][0], suite_runs.BUDGET)[-1]["mean"] == 9_500
    doc = suite_page.build_doc([qbert, linear], "defaults")
    assert (
        "| Qbert | 40M | bf16 | – | 9,500 | 95% |" in doc
    )  # not evaluated at 10M; (9500-164)/(9998-164)
    assert "The default budget is enough for: Qbert." in doc
    assert "Not judged yet (no 40M run with the table's settings): none." in doc


def test_suite_tells_runs_at_other_defaults_by_their_settings_not_their_tag():
    ran = {**DEFAULTS, "entropy_coef": 0.0025, "precision": "fp32", "seed": 3}
    for key in ("max_pool", "epochs", "minibatches"):  # a config.json from before them
        del ran[key]
    flags = "--no-max-pool --entropy-coef 0.0025 --minibatches 1"
    assert protocol.flags_over_defaults(ran) == flags
    assert protocol.flags_over_defaults({**DEFAULTS, "torch_threads": 1, "frames": 7}) == ""
    old = _suite_result("Pong", 10_000_000, -1.3)
    old["config"] = ran
    assert not protocol.at_defaults(old) and suite_runs.budget_runs([old]) == {}
    assert f"| `{flags}` |" in suite_page.build_doc([old], "long").split("## Every run")[1]


def test_the_long_preset_learns_as_the_suites_40m_runs_did():
    """`--preset long` is what was measured: a default moved since does not change it."""
    preset = protocol.flags_over_defaults(dataclasses.asdict(Config.from_preset("long")))
    runs = [protocol.SUITE_RESULTS / f"long-{game}-40M-seed0.json" for game in protocol.GAMES]
    runs = [path for path in runs if path.exists()]
    assert len(runs) >= 2  # Pong and Kung-Fu so far
    for path in runs:
        config = json.loads(path.read_text())["config"]
        assert protocol.flags_over_defaults(config) == preset
        assert protocol.preset_of(config) == "long"  # so `kungfu games` names the preset


def test_suite_doc_names_the_settings_of_its_40m_table():
    command = (
        "kungfu train --game Pong --frames 40000000 --seed 0 --runs-dir runs --run-name "
        "suite-long-Pong-40M-seed0 --no-progress --preset long --torch-threads=1 --env-threads 1"
    )
    assert protocol.settings_of(command) == "--preset long --torch-threads=1 --env-threads 1"
    assert protocol.settings_of(command, machine=False) == "--preset long"
    assert protocol.settings_of("kungfu train --game Pong --frames=10 --no-progress") == ""
    pong_long = _suite_result("Pong", 40_000_000, 20.1, tag="long", schedule="linear")
    pong_long["command"] = command
    pong_long["config"]["lr"] = 5e-4
    pong_defaults = _suite_result("Pong", 40_000_000, 16.2)
    pong_defaults["curve"] = [
        {"frames": f, "minutes": f / 1e6, "mean": m}
        for f, m in [(0, -21.0), (10_000_000, -5.0), (40_000_000, 14.2)]
    ]
    results = [pong_long, pong_defaults]
    doc = suite_page.build_doc(results, "long")
    assert "`--tag long`" in doc and "with `--preset long --torch-threads=1 --env-threads 1`" in doc
    assert "as flags over the defaults, `--lr 0.0005 --lr-schedule linear`" in doc
    assert "| Pong | 20.1 (18.1) |" in doc  # the long run heads the 40M table
    assert "| Pong | 20.1 (-21.0 → 18.1) | 16.2 (-5.0 → 14.2) |" in doc  # beside the defaults
    assert "Why `--tag" not in suite_page.build_doc(results, "defaults")
    # the 10M section reads the defaults' run, and weighs it against the table's 40M run
    assert "| Pong | 40M | bf16 | – | -5.0 | 40% |" in doc  # (-5 + 20.7) / (18.1 + 20.7); not 45%
    measured = measured_games.measured_games(_named(results), "long")
    # a run that did not name the preset gets its flags: what it learned with, not a name
    assert measured["Pong"]["settings"] == "--lr 0.0005 --lr-schedule linear"
    assert measured["Pong"]["mean"] == 20.1
    assert measured_games.measured_games(_named(results), "defaults")["Pong"]["mean"] == 16.2
    pong_long["config"] = {**dataclasses.asdict(Config.from_preset("long")), "precision": "bf16"}
    measured = measured_games.measured_games(_named(results), "long")
    assert measured["Pong"]["settings"] == "--preset long"  # it learned as the preset does
    pong_long["config"]["lr"] = 1e-3  # named the preset, but learned otherwise
    measured = measured_games.measured_games(_named(results), "long")
    assert measured["Pong"]["settings"].startswith("--no-max-pool --lr 0.001")


def test_suite_doc_shows_published_half_points_as_published():
    assert common.fmt(326.5) == "326.5"  # SLM-Lab's PPO on Breakout, not 326
    assert common.fmt(1775.0) == "1,775"
    assert common.fmt(17.0) == "17.0"
    assert common.fmt(-20.25) == "-20.2"
    assert common.fmt(None) == "–"
    assert common.millions(10_001_920) == "10M"  # a run stops at the end of an update
    assert common.millions(40_000_000) == "40M" and common.millions(2_500_000) == "2.5M"
    assert common.millions(5_002_240) == "5M" and common.millions(150_000) == "0.15M"


def test_suite_doc_reads_the_published_figures_from_their_json():
    figures = common.published()
    pong = _suite_result("Pong", 40_000_000, 19.5)
    doc = suite_page.build_doc([pong], "defaults", figures)
    assert "| Pong | 19.5 (17.5) | 12 min 34 s | 10.2 | 16.7 | 19.7 | 19.8 |" in doc
    moved = [{**f, "value": 11.0} if f["name"] == "SLM-Lab A2C-GAE" else f for f in figures]
    doc = suite_page.build_doc([pong], "defaults", moved)
    assert "| Pong | 19.5 (17.5) | 12 min 34 s | 11.0 | 16.7 | 19.7 | 19.8 |" in doc
    # no published figure is written into the suite's scripts: each is read from the JSON
    scripts = [*(ROOT / "benchmarks" / "render").glob("*.py"), ROOT / "benchmarks" / "suite.py"]
    sources = "".join(p.read_text() for p in scripts)
    for f in figures:
        if f["value"] >= 1000:
            assert str(int(f["value"])) not in sources.replace("_", ""), f


def test_docs_suite_md_is_the_page_the_committed_jsons_make():
    page = suite_page.DOC.read_text()
    assert page == suite_page.build_doc(common.suite_results()), (
        "run: python benchmarks/render/suite_page.py --write (or make render)"
    )


def test_the_packages_measured_games_are_the_table_the_committed_jsons_make():
    assert measured_games.TABLE == ROOT / "src" / "kungfu_rl" / "measured_games.json"
    assert measured_games.TABLE.read_text() == measured_games.table(), "run: make measured-games"


def test_the_generated_files_change_when_a_figure_does(tmp_path):
    """The checks above compare figures, not just the layout."""
    suite = tmp_path / "suite"
    shutil.copytree(protocol.SUITE_RESULTS, suite)
    path = suite / "long-Pong-40M-seed0.json"
    data = json.loads(path.read_text())
    data["eval"]["mean"] += 1.0
    path.write_text(json.dumps(data))
    assert measured_games.table(suite) != measured_games.table()
    assert suite_page.build_doc(common.suite_results(suite)) != suite_page.DOC.read_text()


def test_kungfu_games_marks_the_measured_games(tmp_path, monkeypatch, capsys):
    from kungfu_rl.cli import main
    from kungfu_rl.envs import games as envs

    table = tmp_path / "measured.json"
    pong_entry = {"frames": 40_000_000, "seed": 0, "mean": 19.5, "games": 20}
    table.write_text(json.dumps({"games": {"Pong": pong_entry}}))
    monkeypatch.setattr(envs, "MEASURED_GAMES", table)
    assert main(["games"]) == 0
    lines = capsys.readouterr().out.splitlines()
    pong = next(line for line in lines if line.startswith("Pong"))
    assert "measured: 19.5, the 20-game mean after 40M frames at the defaults" in pong
    table.write_text(json.dumps({"games": {"Pong": {**pong_entry, "settings": "--preset long"}}}))
    assert main(["games"]) == 0
    assert "after 40M frames with `--preset long` (seed 0" in capsys.readouterr().out
    assert "Breakout" in lines  # an unmeasured game: its name alone
    # frames as people write them; a score of hundreds without its decimal, as the pages
    breakout = {"frames": 10_001_920, "seed": 0, "mean": 1249.0, "games": 20, "settings": ""}
    table.write_text(json.dumps({"games": {"Breakout": breakout}}))
    assert main(["games"]) == 0
    out = capsys.readouterr().out
    assert "measured: 1,249, the 20-game mean after 10M frames at the defaults (seed 0" in out
    table.write_text(json.dumps({"games": {"Pong": {"frames": 1}, "Qbert": []}}))
    assert main(["games"]) == 0  # entries without their figures are left out
    assert "Pong" in capsys.readouterr().out.splitlines()
    table.write_text("{not json")  # a damaged table marks nothing, and says no traceback
    assert main(["games"]) == 0
    assert "Pong" in capsys.readouterr().out.splitlines()


def test_kungfu_games_prints_the_committed_table_with_preset_names(capsys):
    from kungfu_rl.cli import main

    assert main(["games"]) == 0
    out = capsys.readouterr().out
    assert "Pong                     measured: 17.8, the 20-game mean after 40M frames with " in out
    assert "`--preset long` (seed 0; docs/suite.md)" in out
    assert "10.0019M" not in out and "--no-max-pool" not in out
