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


def test_suite_doc_puts_each_games_setting_beside_the_published_figures(tmp_path, monkeypatch):
    atari = {**dataclasses.asdict(Config.from_preset("atari")), "precision": "fp32"}
    breakout = _suite_result("Breakout", 10_001_920, 61.0, tag="atari")
    breakout["config"] = atari
    pong_defaults = _suite_result("Pong", 10_000_000, 3.0)
    pong_long = _suite_result("Pong", 40_000_000, 19.5, tag="long")
    pong_long["config"] = {**dataclasses.asdict(Config.from_preset("long")), "precision": "bf16"}
    kungfu = _suite_result("KungFuMaster", 10_000_000, 27_000.0)
    clipped = _suite_result("Qbert", 5_000_000, 400.0, tag="clip")
    clipped["config"]["reward_mode"] = "clip"
    results = [breakout, pong_defaults, pong_long, kungfu, clipped]
    doc = suite_page.build_doc(results)
    ten, forty = doc.split("## 10M frames")[1].split("## 40M frames")
    forty, others = forty.split("## Other settings")
    row = next(line for line in ten.splitlines() if line.startswith("| Breakout |"))
    # the game's setting, DreamerV3's PPO at 10M (55.8), the defaults' run (none here), time
    assert row == "| Breakout | `--preset atari` | 61.0 (59.0) | 55.8 | – | 12 min 34 s, fp32 |"
    assert "| Pong | `--preset atari` | not run yet | 12.9 | 3.0 (1.0) | – |" in ten
    assert "| KungFuMaster | the defaults | 27,000 (26,998) | 26,247 | (the same) |" in ten
    assert "on 2 of the 2 games run so far: Breakout, KungFuMaster." in ten
    assert ten.count("kungfu train --game") == 2  # each shown run's command, once
    # at 40M: the game's setting (not run yet), `--preset long` beside it, SLM-Lab's agents
    assert "| Pong | `--preset atari` | not run yet | – | 19.5 (17.5) | 10.2 | 16.7 |" in forty
    assert "| KungFuMaster | `--preset long` | not run yet |" in forty
    assert "No run has reached these frames yet." in forty
    for source in (suite_runs.PPO_10M, *suite_runs.COLUMNS):  # every source's protocol
        assert f"**{source}**" in doc
    # the runs no table shows as a setting: one line per network, each game's best
    line = next(x for x in others.splitlines() if x.startswith("- **the notebook's network"))
    assert "3 settings, 3 runs of 5M–40M frames" in line  # Pong's defaults and long, Qbert
    assert "Pong 19.5 (40M, `long`)" in line and "Qbert 400 (5M, `clip`)" in line
    assert "Breakout" not in line and "KungFuMaster" not in line
    pong_defaults["config"]["sticky_actions"] = 0.0  # another protocol: named, left out
    assert "Left out, without sticky actions 0.25 (another protocol): `defaults`" in (
        suite_page.build_doc(results)
    )
    pong_defaults["config"]["sticky_actions"] = 0.25
    # every run, with its settings over the defaults, where a person asks for it
    every_run = suite_page.every_run(results)
    assert every_run.count("kungfu train --game") == 5
    assert every_run.count("| none |") == 2 and "| `--reward-mode clip` |" in every_run
    assert suite_page.draw_curves(results, tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 1000
    assert not suite_page.draw_curves([clipped], tmp_path / "none.png")  # no game's setting
    measured = measured_games.measured_games(_named(results))
    assert measured["Breakout"]["settings"] == "--preset atari"  # the game's setting first
    assert measured["Pong"]["settings"] == "--preset long"  # none yet: the longest of the rest
    assert measured["KungFuMaster"]["mean"] == 27_000.0 and "Qbert" not in measured
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
    assert envs.measured_games()["Breakout"]["mean"] == 61.0


def test_suite_takes_a_games_setting_run_at_its_frames_and_lowest_seed():
    seed1 = _suite_result("Qbert", 10_001_920, 3_000.0, tag="atari", seed=1)
    seed0 = _suite_result("Qbert", 10_001_920, 2_500.0, tag="atari")
    longer = _suite_result("Qbert", 40_001_280, 9_000.0, tag="atari")
    other = _suite_result("Qbert", 10_000_000, 9_999.0, tag="long")  # not Qbert's setting
    results = [seed1, longer, other, seed0]
    assert suite_runs.setting_run(results, "Qbert", suite_runs.TEN_M) is seed0
    assert suite_runs.setting_run(results, "Qbert", suite_runs.FORTY_M) is longer
    assert suite_runs.setting_run([seed1], "Qbert", suite_runs.FORTY_M) is None
    kungfu_long = _suite_result("KungFuMaster", 40_000_000, 40_000.0, tag="long")
    kungfu_atari = _suite_result("KungFuMaster", 10_000_000, 5.0, tag="atari")
    kungfu_atari["config"] = dataclasses.asdict(Config.from_preset("atari"))
    kungfu = [kungfu_long, kungfu_atari]  # Kung-Fu Master keeps the notebook's agent
    assert suite_runs.setting_run(kungfu, "KungFuMaster", suite_runs.FORTY_M) is kungfu_long
    assert suite_runs.setting_run(kungfu, "KungFuMaster", suite_runs.TEN_M) is None
    fp32 = _suite_result("Pong", 10_000_000, 8.9)
    fp32["config"]["precision"] = "fp32"
    bf16 = _suite_result("Pong", 10_001_920, 2.3, tag="defaults-bf16")
    assert suite_runs.defaults_at([bf16, fp32], "Pong", suite_runs.TEN_M) == [fp32, bf16]


def test_suite_tells_runs_at_other_defaults_by_their_settings_not_their_tag():
    ran = {**DEFAULTS, "entropy_coef": 0.0025, "precision": "fp32", "seed": 3}
    for key in ("max_pool", "epochs", "minibatches"):  # a config.json from before them
        del ran[key]
    flags = "--no-max-pool --entropy-coef 0.0025 --minibatches 1"
    assert protocol.flags_over_defaults(ran) == flags
    assert protocol.flags_over_defaults({**DEFAULTS, "torch_threads": 1, "frames": 7}) == ""
    old = _suite_result("Pong", 10_000_000, -1.3)
    old["config"] = ran
    assert not protocol.at_defaults(old)
    assert suite_runs.defaults_at([old], "Pong", suite_runs.TEN_M) == []
    assert f"| `{flags}` |" in suite_page.every_run([old])


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


def test_suite_doc_names_the_settings_of_its_runs():
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
    pong_long["suite_command"] = (
        "python benchmarks/suite.py --tag long --games Pong -- --preset=long"
    )
    pong_defaults = _suite_result("Pong", 40_000_000, 16.2)
    results = [pong_long, pong_defaults]
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
    # a shown run's command: the suite's, what it ran, where it was trained on and where
    # resumed, its load
    pong_long["game"], pong_long["extended_from"] = "KungFuMaster", "runs/suite-long-10M"
    pong_long["extended_at_frames"] = 10_002_432
    pong_long["resumed_at_frames"] = [8_736_768, 23_456_789]
    pong_long["load_after"] = pong_long["load_before"]  # said once
    forty = suite_page.build_doc(results).split("## 40M frames")[1]
    said = next(x for x in forty.splitlines() if x.startswith("- KungFuMaster: "))
    assert said == (
        f"- KungFuMaster: `{pong_long['suite_command']}`, which ran `{command}` (the run "
        "runs/suite-long-10M, trained on from 10.00M frames) (resumed at 8.74M, 23.46M frames); "
        "load 0.10 0.20 0.30"
    )


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
    kungfu = _suite_result("KungFuMaster", 40_000_000, 19.5, tag="long")
    row = "| KungFuMaster | `--preset long` | 19.5 (17.5) | 12 min 34 s, bf16 | (the same) |"
    doc = suite_page.build_doc([kungfu], figures)
    assert f"{row} 23,006 | 28,128 | 24,900 | – |" in doc
    moved = [{**f, "value": 11.0} if f["name"] == "SLM-Lab A2C-GAE" else f for f in figures]
    assert f"{row} 11.0 | 28,128 | 24,900 | – |" in suite_page.build_doc([kungfu], moved)
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


def test_each_setup_choice_is_set_beside_the_presets_run_at_the_same_frames():
    from benchmarks.render import setup_choices as choices

    frames = choices.CHOICE_FRAMES
    breakout = _suite_result("Breakout", 10_000_000, 50.0, tag="atari")
    breakout["curve"] = [
        {"frames": f, "minutes": 0.0, "mean": f / 100_000} for f in range(0, 10_000_001, 40_960)
    ]
    at_choice = max(p["mean"] for p in breakout["curve"] if p["frames"] <= frames)
    qbert = _suite_result("Qbert", 10_000_000, 3_000.0, tag="atari")  # no curve point near
    fire, cut = "atari-no-press-fire", "atari-no-cut-at-life-loss"
    runs = [
        {**_suite_result("Breakout", frames, 12.0, tag=fire), "last_100_training_mean": 9.0},
        {**_suite_result("Breakout", frames, 40.0, tag=cut), "last_100_training_mean": 35.0},
        {**_suite_result("Breakout", frames, 1.0, tag=cut, seed=1)},  # a higher seed: not shown
        {**_suite_result("Qbert", frames, 500.0, tag=cut), "last_100_training_mean": 450.0},
        _suite_result("Seaquest", 5_000_000, 300.0, tag=cut),  # other frames: not this table
    ]
    assert choices.preset_at([breakout, qbert], "Breakout", frames) == at_choice
    assert choices.preset_at([breakout, qbert], "Qbert", frames) is None
    lines = choices.section([breakout, qbert, *runs])
    rows = {line.split("`")[1]: line for line in lines if line.startswith("| `")}
    assert rows["--no-press-fire"].endswith(
        f"| 9.0 against {common.fmt(at_choice)} | not run yet | not run yet | not run yet "
        "| 0 of 1 |"
    )
    assert rows["--no-cut-at-life-loss"].endswith(
        f"| 35.0 against {common.fmt(at_choice)} | 450 against – | not run yet | not run yet "
        "| 1 of 1 |"
    )
    assert rows["--epochs 1"].endswith("| not run yet | not run yet | not run yet | – |")
    assert f"--frames {frames} -- --preset atari --crop scoreless" in "\n".join(lines)
    # the choices' runs are in their section, not summed up among the other settings
    page = suite_page.build_doc([breakout, qbert, *runs])
    assert "## The Atari set-up, choice by choice" in page
    assert "atari-no-cut-at-life-loss" not in page.split("## Other settings")[1]


def test_a_choice_is_said_taken_or_not_once_the_games_left_cannot_change_it():
    from benchmarks.render.setup_choices import CHOICE_GAMES, TAKEN_AT, verdict

    assert (len(CHOICE_GAMES), TAKEN_AT) == (4, 3)
    assert verdict([]) == "–"
    assert verdict([True, False]) == "1 of 2"  # two games left may still make it 3 of 4
    assert verdict([False, False]) == "0 of 2: not taken"  # at most 2 of 4
    assert verdict([True, True, False]) == "2 of 3"
    assert verdict([True, True, True]) == "3 of 3: taken"
    assert verdict([True, False, True, False]) == "2 of 4: not taken"
    assert verdict([True, True, False, True]) == "3 of 4: taken"


def test_each_set_up_choice_is_flags_kungfu_train_takes_and_each_changes_the_preset():
    import shlex

    from benchmarks.protocol import planned_config
    from benchmarks.render import setup_choices as choices

    preset = planned_config(["--game", "Breakout", "--preset", "atari"])
    for tag, (flags, _) in choices.CHOICES.items():
        planned = planned_config(["--game", "Breakout", "--preset", "atari", *shlex.split(flags)])
        changed = {k for k in planned if planned[k] != preset[k]} - {"run_name"}
        assert changed, f"{tag}: {flags} trains as the preset does"
        assert tag.startswith(f"{choices.GENERAL_TAG}-")
