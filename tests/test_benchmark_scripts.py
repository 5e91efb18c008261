"""The benchmark scripts: the score benchmark's bookkeeping, and one JSON writer for all."""

import ast
import dataclasses
import importlib.util
import json
import subprocess
from pathlib import Path

import pytest
import torch

from kungfu_rl.config import Config

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
WRITER = "bench_report.py"


def _load(name, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # as `python benchmarks/<name>.py` runs
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
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


def test_time_to_bar_weights_rows_by_their_games(tmp_path, monkeypatch):
    score = _load("score", monkeypatch)
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


def _own_json_writes(source: str) -> list[str]:
    """Where `source` dumps JSON itself (json.dump/json.dumps, however imported)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "json":
            found += [
                f"line {node.lineno}: from json import {a.name}"
                for a in node.names
                if a.name in ("dump", "dumps")
            ]
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in ("dump", "dumps")
            and isinstance(node.value, ast.Name)
            and node.value.id == "json"
        ):
            found.append(f"line {node.lineno}: json.{node.attr}")
    return found


def _has_out_option(source: str) -> bool:
    """Whether the script takes `--out` (the path of the JSON it writes)."""
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "add_argument"
        and any(isinstance(a, ast.Constant) and a.value == "--out" for a in node.args)
        for node in ast.walk(ast.parse(source))
    )


def _calls(source: str, name: str) -> bool:
    return any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
        for node in ast.walk(ast.parse(source))
    )


def test_the_check_catches_a_script_that_writes_json_its_own_way():
    assert _own_json_writes("import json\nPath('x.json').write_text(json.dumps({}))\n")
    assert _own_json_writes("import json\njson.dump({}, open('x.json', 'w'))\n")
    assert _own_json_writes("from json import dumps\n")
    assert not _own_json_writes("from json import loads\n")
    assert not _own_json_writes("import json\ndata = json.loads(Path('x.json').read_text())\n")
    assert _has_out_option("p.add_argument('--out', type=Path)\n")


def test_every_benchmark_writes_its_json_through_bench_report():
    scripts = sorted(p for p in BENCHMARKS.glob("*.py") if p.name != WRITER)
    assert scripts, "no benchmark scripts found"
    offenders = {p.name: _own_json_writes(p.read_text()) for p in scripts}
    assert not {k: v for k, v in offenders.items() if v}, (
        f"write JSON through bench_report.write_report, not on your own: {offenders}"
    )
    for path in scripts:
        source = path.read_text()
        if _has_out_option(source):
            assert _calls(source, "write_report"), f"{path.name}: --out, but no write_report"
            assert "from bench_report import write_report" in source, path.name


def test_write_report_adds_the_same_machine_fields(tmp_path, monkeypatch):
    bench_report = _load("bench_report", monkeypatch)
    out = tmp_path / "sub" / "r.json"
    bench_report.write_report({"steps_per_s": 1.5}, out)
    data = json.loads(out.read_text())
    assert data["steps_per_s"] == 1.5
    assert set(bench_report.FIELDS) <= set(data)
    assert len(data["load_average"]) == 3
    assert data["cpu_count"] >= 1
    assert data["machine"]["platform"]
    versions = data["versions"]
    for name in ("kungfu_rl", "python", "torch", "ale_py", "gymnasium", "numpy"):
        assert versions[name], name
    assert "git_commit" in versions and "git_dirty" in versions


def test_git_dirty_leaves_out_the_files_the_script_writes_itself(tmp_path, monkeypatch):
    """A suite run rewrites docs/suite.md after it scores; the next run's tree is not
    'dirty' for that, but is for any other uncommitted change."""
    bench_report = _load("bench_report", monkeypatch)
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    doc, code = repo / "docs" / "suite.md", repo / "train.py"
    doc.write_text("table\n")
    code.write_text("x = 1\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "start"], check=True)
    monkeypatch.setattr(bench_report, "ROOT", repo)

    def dirty(generated=()):
        return bench_report.machine_fields(generated)["versions"]["git_dirty"]

    assert dirty() is False
    doc.write_text("table, rebuilt\n")
    assert dirty() is True
    assert dirty(generated=[doc]) is False
    code.write_text("x = 2\n")
    assert dirty(generated=[doc]) is True


def test_write_report_refuses_a_report_that_sets_its_fields(tmp_path, monkeypatch):
    bench_report = _load("bench_report", monkeypatch)
    with pytest.raises(ValueError, match="versions"):
        bench_report.write_report({"versions": {"torch": "mine"}}, tmp_path / "r.json")
    assert not (tmp_path / "r.json").exists()


def test_a_score_json_gains_seeds_rather_than_losing_them(tmp_path, monkeypatch):
    score = _load("score", monkeypatch)
    out, runs = tmp_path / "score-t.json", tmp_path / "runs"
    assert score.earlier_results(out, runs, "t", [3]) == ([], "")  # no JSON yet
    out.write_text(json.dumps({"results": [{"seed": s} for s in (0, 1, 2)], "note": "n"}))
    for seed in (0, 2):  # seed 1's run folder is gone, seed 2's finished, 0 is asked again
        (runs / f"t-seed{seed}").mkdir(parents=True)
        (runs / f"t-seed{seed}" / "eval-final-1.json").write_text("{}")
    assert score.earlier_results(out, runs, "t", [0, 3]) == ([2], "n")
    out.write_text("{not json")
    assert score.earlier_results(out, runs, "t", [3]) == ([], "")
    command = "python benchmarks/score.py --tag t --seeds 3 4 --parallel -- --core gru"
    assert score.with_seeds(command, [0, 3, 4]) == (
        "python benchmarks/score.py --tag t --seeds 0 3 4 --parallel -- --core gru"
    )
    assert score.with_seeds("python benchmarks/score.py --tag t --seeds=3 -- --lr 1", [0, 3]) == (
        "python benchmarks/score.py --tag t --seeds 0 3 -- --lr 1"
    )
    assert score.with_seeds("python benchmarks/score.py --tag t -- --lr 1", [0, 1, 2]) == (
        "python benchmarks/score.py --tag t --seeds 0 1 2 -- --lr 1"
    )


def test_a_run_is_scored_by_its_sampled_evaluation_not_a_greedy_one(tmp_path, monkeypatch):
    score = _load("score", monkeypatch)
    _metrics(tmp_path / "metrics.csv", [(1, 1), (2, 1)])  # the final row: 2,000 frames

    def record(name, mean, **extra):
        body = {"games": 2, "frames": 2000, "seed": 12345, "scores": [mean, mean], **extra}
        for key in ("mean", "median", "min", "max"):
            body[key] = mean
        (tmp_path / name).write_text(json.dumps(body))

    record("eval-final-000000002.json", 5.0)  # the trainer's own: not the benchmark's games
    record("eval-1-greedy.json", 9.0, greedy=True)
    assert score.final_eval(tmp_path, games=2) is None
    record("eval-2-sampled.json", 7.0, greedy=False)
    record("eval-3-greedy.json", 9.0, greedy=True)  # written after the sampled one
    assert score.final_eval(tmp_path, games=2)["mean"] == 7.0
    assert score.newest_eval(tmp_path)["mean"] == 7.0


def test_seeds_of_one_json_must_share_their_learning_settings(monkeypatch):
    score = _load("score", monkeypatch)
    same = [{"lr": 3e-4, "seed": s, "torch_threads": s} for s in (0, 1)]
    assert score.settings_that_differ(same) == ""  # seeds and threads may differ
    other = [*same, {"lr": 1e-3, "seed": 2, "torch_threads": 0}]
    assert score.settings_that_differ(other) == "lr: 0.0003, 0.001"


def test_score_refuses_other_settings_than_the_kept_seeds_before_training(tmp_path, monkeypatch):
    from kungfu_rl.config import Config

    score = _load("score", monkeypatch)
    assert score.planned_config(["--preset", "long", "--torch-threads", "1"]) == {
        **dataclasses.asdict(Config.from_preset("long")),
        "torch_threads": 1,
    }
    runs, out = tmp_path / "runs", tmp_path / "score-t.json"
    kept = runs / "t-seed0"
    kept.mkdir(parents=True)
    (kept / "eval-final-1.json").write_text("{}")
    (kept / "config.json").write_text(Config(lr=1e-3, seed=0).to_json())
    out.write_text(json.dumps({"results": [{"seed": 0}]}))

    def no_training(*args, **kwargs):
        raise AssertionError("trained before the settings were checked")

    monkeypatch.setattr(score.subprocess, "Popen", no_training)
    argv = ["score.py", "--tag", "t", "--seeds", "1", "--runs-dir", str(runs), "--out", str(out)]
    monkeypatch.setattr(score.sys, "argv", [*argv, "--", "--torch-threads", "1"])
    with pytest.raises(SystemExit, match=r"seeds \[0\] were trained with other settings \(lr: "):
        score.main()
    (kept / "config.json").write_text("{not json")
    with pytest.raises(SystemExit, match=r"config\.json is unreadable"):
        score.main()
    monkeypatch.setattr(score.sys, "argv", [*argv, "--", "--lr", "-1"])
    with pytest.raises(SystemExit, match="kungfu train --lr -1: --lr must be"):
        score.main()


def test_scripts_import_no_removed_package_names():
    """The kept scripts follow the package's API (no trainer helpers, no acting graph)."""
    for path in sorted(BENCHMARKS.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "kungfu_rl.training.trainer":
                names = {a.name for a in node.names}
                assert names <= {"Trainer"}, f"{path.name} imports {names} from trainer"
            if isinstance(node, ast.keyword):
                assert node.arg != "keep_features", f"{path.name} passes keep_features"


TODAYS_DEFAULTS = dataclasses.asdict(Config())


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
        "config": {**TODAYS_DEFAULTS, "precision": "bf16", "lr_schedule": schedule},
    }


def test_suite_doc_puts_our_runs_beside_the_published_figures(tmp_path, monkeypatch):
    suite = _load("suite", monkeypatch)
    results = [
        _suite_result("Pong", 40_000_000, 19.5),
        _suite_result("Pong", 10_000_000, 3.0),
        _suite_result("Breakout", 10_000_000, 40.0, tag="clip"),  # not the doc's settings
    ]
    results[2]["config"]["reward_mode"] = "clip"
    doc = suite.build_doc(results, "defaults")
    row = next(line for line in doc.splitlines() if line.startswith("| Pong |"))
    assert "19.5 (17.5)" in row and "12 min 34 s" in row and "10.2" in row and "16.7" in row
    assert "| Breakout | not run yet |" in doc
    breakout_long = _suite_result("Breakout", 40_000_000, 9.2, tag="long-max")
    breakout_worse = _suite_result("Breakout", 40_000_000, 4.1, tag="lifecut")
    other_only = suite.build_doc([*results, breakout_worse, breakout_long], "defaults")
    # a game that reached 40M frames with other settings only shows its best such run, named
    assert "| Breakout | not with these; `--tag long-max`: 9.2 (7.2) | 12 min 34 s |" in other_only
    assert "| Pong | 19.5 (17.5) |" in other_only  # a game with the table's own run keeps it
    for source in suite.PUBLISHED:  # every source's protocol is stated
        assert f"**{source}**" in doc
    every_run = doc.split("## Every run")[1]
    assert every_run.count("kungfu train --game") == 3
    assert every_run.count("| none |") == 2 and "| `--reward-mode clip` |" in every_run
    assert " in fp32" not in every_run  # the helper's runs name no precision
    results[2]["config"]["precision"] = "fp32"  # a CPU without native bf16 marks its time
    every_run = suite.build_doc(results, "defaults").split("## Every run")[1]
    assert every_run.count("12 min 34 s in fp32") == 1
    assert suite.draw_curves(results, tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 1000
    assert not suite.draw_curves(results[2:], tmp_path / "none.png")  # no run at the defaults
    measured = suite.measured_games(results, "defaults")
    pong = {"frames": 40_000_000, "seed": 0, "mean": 19.5, "games": 20, "settings": ""}
    assert measured == {"Pong": pong}
    budget = doc.split("## 10M frames")[1].split("## Every run")[0]
    assert "| Pong | 10M | bf16 | 3.0 | 1.0 | 57% |" in budget  # (1 + 20.7) / (17.5 + 20.7)
    assert "enough for: none so far. Not enough (40M frames learn clearly more): Pong." in budget
    table = tmp_path / "measured.json"
    assert suite.games_in(table) is None
    table.write_text(json.dumps({"games": measured, "versions": {"git_commit": "abc"}}))
    assert suite.games_in(table) == measured  # what write_doc compares before it rewrites


def test_suite_takes_the_budget_curve_from_a_longer_constant_rate_run(monkeypatch):
    suite = _load("suite", monkeypatch)
    qbert = _suite_result("Qbert", 40_000_000, 10_000.0)
    qbert["curve"] = [
        {"frames": f, "minutes": f / 1e6, "mean": m}
        for f, m in [(0, 150), (5_000_000, 6_000), (10_000_000, 9_500), (40_000_000, 9_998)]
    ]
    linear = _suite_result("Breakout", 40_000_000, 300.0, schedule="linear")  # not the same run
    runs = suite.budget_runs([qbert, linear])
    assert list(runs) == ["Qbert"]
    assert suite.curve_to(runs["Qbert"][0], suite.BUDGET)[-1]["mean"] == 9_500
    doc = suite.build_doc([qbert, linear], "defaults")
    assert (
        "| Qbert | 40M | bf16 | – | 9,500 | 95% |" in doc
    )  # not evaluated at 10M; (9500-164)/(9998-164)
    assert "The default budget is enough for: Qbert." in doc
    assert "Not judged yet (no 40M run with the table's settings): none." in doc


def test_suite_tells_runs_at_older_defaults_by_their_settings_not_their_tag(tmp_path, monkeypatch):
    suite = _load("suite", monkeypatch)
    before = {**TODAYS_DEFAULTS, "entropy_coef": 0.0025, "precision": "fp32", "seed": 3}
    for key in ("max_pool", "epochs", "minibatches"):  # a config.json from before them
        del before[key]
    flags = "--no-max-pool --entropy-coef 0.0025 --minibatches 1"
    assert suite.flags_over_defaults(before) == flags
    assert suite.flags_over_defaults({**TODAYS_DEFAULTS, "torch_threads": 1, "frames": 7}) == ""
    old = _suite_result("Pong", 10_000_000, -1.3)
    old["config"] = before
    assert not suite.at_defaults(old) and suite.budget_runs([old]) == {}
    assert f"| `{flags}` |" in suite.build_doc([old], "long").split("## Every run")[1]
    # a JSON of a tag whose settings changed since is not overwritten by today's
    out = tmp_path / "defaults-Pong-10M-seed0.json"
    out.write_text(json.dumps(old))
    args = suite.argparse.Namespace(train_args=["--torch-threads", "1"])
    with pytest.raises(SystemExit, match=f"other settings \\({flags}\\): name these"):
        suite.check_same_settings(out, "Pong", args)
    suite.check_same_settings(out, "Pong", suite.argparse.Namespace(train_args=flags.split()))
    suite.check_same_settings(tmp_path / "none.json", "Pong", args)  # nothing there yet


def test_the_long_preset_learns_as_the_suites_40m_runs_did(monkeypatch):
    """`--preset long` is what was measured: a default changed since does not change it."""
    suite = _load("suite", monkeypatch)
    preset = suite.flags_over_defaults(dataclasses.asdict(Config.from_preset("long")))
    runs = [suite.RESULTS / f"long-{game}-40M-seed0.json" for game in suite.GAMES]
    runs = [path for path in runs if path.exists()]
    assert len(runs) >= 2  # Pong and Kung-Fu so far
    for path in runs:
        assert suite.flags_over_defaults(json.loads(path.read_text())["config"]) == preset


def test_suite_lets_machine_flags_run_under_the_defaults_tag(monkeypatch):
    suite = _load("suite", monkeypatch)
    machine = ["--torch-threads", "1", "--env-threads=1", "--precision", "fp32"]
    assert suite.settings_flags(machine) == []
    assert suite.settings_flags(["--lr", "1e-3", "--torch-threads", "1"]) == ["--lr"]
    assert suite.settings_flags(["--reward-mode=clip"]) == ["--reward-mode=clip"]


def test_suite_doc_names_the_settings_of_its_40m_table(monkeypatch):
    suite = _load("suite", monkeypatch)
    command = (
        "kungfu train --game Pong --frames 40000000 --seed 0 --runs-dir runs --run-name "
        "suite-long-Pong-40M-seed0 --no-progress --preset long --torch-threads=1 --env-threads 1"
    )
    assert suite.settings_of(command) == "--preset long --torch-threads=1 --env-threads 1"
    assert suite.settings_of(command, machine=False) == "--preset long"
    assert suite.settings_of("kungfu train --game Pong --frames=10 --no-progress") == ""
    pong_long = _suite_result("Pong", 40_000_000, 20.1, tag="long", schedule="linear")
    pong_long["command"] = command
    pong_long["config"]["lr"] = 5e-4
    pong_defaults = _suite_result("Pong", 40_000_000, 16.2)
    pong_defaults["curve"] = [
        {"frames": f, "minutes": f / 1e6, "mean": m}
        for f, m in [(0, -21.0), (10_000_000, -5.0), (40_000_000, 14.2)]
    ]
    results = [pong_long, pong_defaults]
    doc = suite.build_doc(results, "long")
    assert "`--tag long`" in doc and "with `--preset long --torch-threads=1 --env-threads 1`" in doc
    assert "| Pong | 20.1 (18.1) |" in doc  # the long run heads the 40M table
    assert "| Pong | 20.1 (-21.0 → 18.1) | 16.2 (-5.0 → 14.2) |" in doc  # beside the defaults
    assert "Why `--tag" not in suite.build_doc(results, "defaults")
    # the 10M section reads the defaults' run, and weighs it against the table's 40M run
    assert "| Pong | 40M | bf16 | – | -5.0 | 40% |" in doc  # (-5 + 20.7) / (18.1 + 20.7); not 45%
    measured = suite.measured_games(results, "long")
    # the flags that learn as the run did today, not the preset's name, whose values may change
    assert measured["Pong"]["settings"] == "--lr 0.0005 --lr-schedule linear"
    assert measured["Pong"]["mean"] == 20.1
    assert suite.measured_games(results, "defaults")["Pong"]["mean"] == 16.2


def test_suite_doc_shows_published_half_points_as_published(monkeypatch):
    suite = _load("suite", monkeypatch)
    assert suite._fmt(326.5) == "326.5"  # SLM-Lab's PPO on Breakout, not 326
    assert suite._fmt(1775.0) == "1,775"
    assert suite._fmt(17.0) == "17.0"
    assert suite._fmt(-20.25) == "-20.2"
    assert suite._fmt(None) == "–"


def test_suite_adopts_a_finished_run_only_with_the_same_settings(tmp_path, monkeypatch):
    from kungfu_rl.config import Config

    suite = _load("suite", monkeypatch)
    monkeypatch.setattr(suite, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(suite, "write_doc", lambda tag: None)
    run = tmp_path / "runs" / "long-seed1"
    run.mkdir(parents=True)
    config = Config.from_preset("long", seed=1, run_name=run.name, torch_threads=1)
    (run / "config.json").write_text(config.to_json())
    _metrics(run / "metrics.csv", [(30_000, 2)] * 3)  # ends at 3,000 frames
    scores = [30_000.0] * 20
    record = {"games": 20, "scores": scores, "mean": 30_000.0, "median": 30_000.0}
    record |= {"min": 30_000.0, "max": 30_000.0, "update": 3, "frames": 3_000, "seed": 12345}
    (run / "eval-20261130.json").write_text(json.dumps(record))
    (run / "eval-final-1.json").write_text(json.dumps({**record, "games": 5, "scores": [1.0] * 5}))
    git = suite.subprocess.run

    def no_training(command, *args, **kwargs):
        assert "kungfu_rl" not in command, "an adopted run is not trained or evaluated again"
        return git(command, *args, **kwargs)

    monkeypatch.setattr(suite.subprocess, "run", no_training)
    argv = ["suite.py", "--tag", "long", "--games", "KungFuMaster", "--adopt", str(run)]
    for seed, flags, why in [
        ("0", ["--preset", "long"], r"\(seed: 1, 0\)"),
        ("1", [], r"\(entropy_coef: 0\.0025, 0\.01\)"),  # not the long preset
        ("1", ["--preset", "long", "--lr", "1e-3"], r"\(lr: 0\.0005, 0\.001\)"),
    ]:
        monkeypatch.setattr(suite.sys, "argv", [*argv, "--seed", seed, "--", *flags])
        with pytest.raises(SystemExit, match="--adopt .* was trained with other settings " + why):
            suite.main()
    monkeypatch.setattr(suite.sys, "argv", [*argv, "--seed", "1", "--", "--preset", "long"])
    suite.main()
    report = json.loads((tmp_path / "results" / "long-KungFuMaster-40M-seed1.json").read_text())
    assert report["adopted"] and report["eval"]["mean"] == 30_000.0
    assert report["command"].endswith(f"--run-name {run.name} --no-progress --preset long")
    assert suite.settings_of(report["command"]) == "--preset long"
    assert f"(adopted: trained as {run}) |" in suite.build_doc([report], "long")
    # a score JSON that trained the folder is named, so a reader finds how it ran
    monkeypatch.setattr(suite, "SCORE_RESULTS", tmp_path)
    (tmp_path / "score-broken.json").write_text("{not json")
    (tmp_path / "score-other.json").write_text(json.dumps({"results": [{"run": "runs/x"}]}))
    source = {"results": [{"seed": 1, "run": str(run)}], "note": "seed 1 alone"}
    (tmp_path / "score-long.json").write_text(json.dumps(source))
    suite.main()
    report = json.loads((tmp_path / "results" / "long-KungFuMaster-40M-seed1.json").read_text())
    assert report["trained_by"] == str(tmp_path / "score-long.json")
    assert f"(adopted: trained as {run}, by {tmp_path / 'score-long.json'}," in suite.build_doc(
        [report], "long"
    )
    monkeypatch.setattr(suite.sys, "argv", [*argv, "--games", "Pong", "--", "--preset", "long"])
    with pytest.raises(SystemExit):  # one game per adopted folder
        suite.main()


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
    table.write_text(json.dumps({"games": {"Pong": {"frames": 1}, "Qbert": []}}))
    assert main(["games"]) == 0  # entries without their figures are left out
    assert "Pong" in capsys.readouterr().out.splitlines()
    table.write_text("{not json")  # a damaged table marks nothing, and says no traceback
    assert main(["games"]) == 0
    assert "Pong" in capsys.readouterr().out.splitlines()


def test_throughput_versus_alternates_the_two_settings_and_divides_their_medians(monkeypatch):
    throughput = _load("throughput", monkeypatch)
    calls = []

    def training(**kw):  # the defaults run at 100, 90, 110 steps/s; with the flags at half
        calls.append(kw["extra"])
        rate = (100, 90, 110)[len(calls) // 2 % 3] * (0.5 if kw["extra"] else 1.0)
        return {"steps_per_s": rate}

    monkeypatch.setattr(throughput, "training", training)
    report = throughput.against_flags("--frame-size 84", 1.0, {"n_games": 2})
    assert calls == [(), ("--frame-size", "84")] * 3
    assert report["medians"] == {"defaults": 100, "--frame-size 84": 50}
    assert report["ratio"] == 0.5 and report["n_games"] == 2


def test_throughput_versus_takes_a_single_flag_as_its_value(monkeypatch):
    throughput = _load("throughput", monkeypatch)
    assert throughput.parse_args(["--versus", "--max-pool"]).versus == "--max-pool"
    assert throughput.parse_args(["--versus=--max-pool"]).versus == "--max-pool"
    args = throughput.parse_args(["--seconds", "5", "--versus", "--epochs 1 --minibatches 4"])
    assert args.versus == "--epochs 1 --minibatches 4" and args.seconds == 5
    assert throughput.parse_args(["--seconds", "5"]).versus is None


def test_throughput_trains_the_game_it_is_given(monkeypatch):
    throughput = _load("throughput", monkeypatch)
    commands = []
    monkeypatch.setattr(throughput.subprocess, "run", lambda cmd, **kw: commands.append(cmd))
    monkeypatch.setattr(throughput, "read_metrics", lambda path: {"time/fps": [400.0] * 8})
    settings = dict(n_games=2, env_threads=1, torch_threads=1, acting_threads=1, seconds=1.0)
    settings.update(overlap=False, precision="fp32")
    assert throughput.training(**settings, game="Seaquest")["steps_per_s"] == 100.0
    assert throughput.training(**settings)["steps_per_s"] == 100.0
    with_game, without = commands
    assert with_game[with_game.index("--game") + 1] == "Seaquest"
    assert "--game" not in without  # the defaults' Kung-Fu
    assert throughput.parse_args(["--baseline", "HEAD", "--game", "Pong"]).game == "Pong"


def test_network_cost_times_the_papers_network_as_published(monkeypatch):
    network_cost = _load("network_cost", monkeypatch)
    net = network_cost.NatureNetwork(n_actions=14, precision="fp32")
    # convs 8,224 + 32,832 + 36,928; dense 3136 × 512 + 512; heads 512 × 14 + 14 and 513
    assert sum(p.numel() for p in net.parameters()) == 1_691_823
    logits, values = net(torch.zeros(3, 4, 84, 84, dtype=torch.uint8))
    assert logits.shape == (3, 14) and values.shape == (3,)


@pytest.mark.parametrize("name", ["ours", "ours-84", "nature"])
def test_network_cost_iteration_acts_and_learns_once_per_pass(name, monkeypatch):
    network_cost = _load("network_cost", monkeypatch)
    steps = []
    step = torch.optim.Adam.step
    monkeypatch.setattr(torch.optim.Adam, "step", lambda self: steps.append(step(self)))
    iteration = network_cost._iteration_of(name, "fp32")
    iteration(1)
    iteration(4)
    assert len(steps) == 5
