"""The benchmark runners: the shared runner and its one JSON writer, the score benchmark's
bookkeeping, the suite's checks before it trains, throughput and network cost."""

import ast
import dataclasses
import json
import subprocess
from pathlib import Path

import pytest
import torch

from benchmarks import network_cost, protocol, runner, score, suite, throughput
from kungfu_rl.config import Config

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
SHARED = {"__init__.py", "runner.py", "protocol.py"}
"""Modules the scripts import, run by none."""
SCRATCH_JSON = {"peers/cleanrl.py": 1}
"""JSON a runner may write itself: setup's source.json in the peer's scratch folder (where the
peer's script came from), not a result."""
MAX_LINES = 400


def _modules() -> list[Path]:
    return sorted(BENCHMARKS.rglob("*.py"))


def _runners() -> list[Path]:
    """The scripts that measure: every module but the shared ones and the renderers."""
    return [
        p
        for p in _modules()
        if p.name not in SHARED and "render" not in p.relative_to(BENCHMARKS).parts
    ]


def _metrics(path, rows):
    header = "update,frames,time/elapsed_s,rollout/episode_score,rollout/episodes\n"
    body = "".join(
        f"{i},{i * 1000},{i * 60},{score},{n}\n" for i, (score, n) in enumerate(rows, start=1)
    )
    path.write_text(header + body)
    return path


def test_time_to_bar_weights_rows_by_their_games(tmp_path):
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


def _imports(source: str) -> set[str]:
    """The modules `source` imports from (`from X import ...`, `import X`)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_the_check_catches_a_script_that_writes_json_its_own_way():
    assert _own_json_writes("import json\nPath('x.json').write_text(json.dumps({}))\n")
    assert _own_json_writes("import json\njson.dump({}, open('x.json', 'w'))\n")
    assert _own_json_writes("from json import dumps\n")
    assert not _own_json_writes("from json import loads\n")
    assert not _own_json_writes("import json\ndata = json.loads(Path('x.json').read_text())\n")
    assert _has_out_option("p.add_argument('--out', type=Path)\n")


def test_every_runner_writes_its_json_through_the_runner():
    scripts = _runners()
    names = {str(p.relative_to(BENCHMARKS)) for p in scripts}
    assert {"score.py", "suite.py", "throughput.py", "peers/cleanrl.py"} <= names
    offenders = {
        name: writes
        for name, writes in (
            (str(p.relative_to(BENCHMARKS)), _own_json_writes(p.read_text())) for p in scripts
        )
        if len(writes) > SCRATCH_JSON.get(name, 0)
    }
    assert not offenders, f"write JSON through runner.write_report, not on your own: {offenders}"
    for path in scripts:
        source = path.read_text()
        if _has_out_option(source):
            assert _calls(source, "write_report"), f"{path.name}: --out, but no write_report"
            assert "benchmarks.runner" in _imports(source), path.name


def test_renderers_read_json_and_run_nothing():
    """A renderer builds its page from the committed JSONs alone: it trains, evaluates and
    times nothing, and adds no machine fields (its output must be the same on any machine)."""
    renderers = sorted((BENCHMARKS / "render").glob("*.py"))
    assert len(renderers) >= 6
    for path in renderers:
        imported = _imports(path.read_text())
        assert not imported & {"benchmarks.runner", "subprocess", "torch"}, path.name
        assert not any(m.startswith("kungfu_rl.") and m != "kungfu_rl.config" for m in imported)


def test_no_benchmark_module_is_over_400_lines():
    long = {
        str(p.relative_to(BENCHMARKS)): n
        for p in _modules()
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"split these: {long}"


def test_no_runner_names_the_packages_table():
    """No runner writes into src/: the table `kungfu games` reads (measured_games.json) is
    written by its renderer alone (`make measured-games`)."""
    shared = [BENCHMARKS / "runner.py", BENCHMARKS / "protocol.py"]
    naming = [p.name for p in [*_runners(), *shared] if "measured_games" in p.read_text()]
    assert not naming
    assert "measured_games.json" in (BENCHMARKS / "render" / "measured_games.py").read_text()


def test_write_report_adds_the_same_machine_fields(tmp_path):
    out = tmp_path / "sub" / "r.json"
    runner.write_report({"steps_per_s": 1.5}, out)
    data = json.loads(out.read_text())
    assert data["steps_per_s"] == 1.5
    assert set(runner.FIELDS) <= set(data)
    assert len(data["load_average"]) == 3
    assert data["cpu_count"] >= 1
    assert data["machine"]["platform"]
    versions = data["versions"]
    for name in ("kungfu_rl", "python", "torch", "ale_py", "gymnasium", "numpy"):
        assert versions[name], name
    assert "git_commit" in versions and "git_dirty" in versions


def test_git_dirty_leaves_out_the_files_the_script_writes_itself(tmp_path, monkeypatch):
    """A file the script rewrites on every run does not make the next run's tree 'dirty';
    any other uncommitted change does."""
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    doc, code = repo / "docs" / "suite.md", repo / "train.py"
    doc.write_text("table\n")
    code.write_text("x = 1\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "start"], check=True)
    monkeypatch.setattr(runner, "ROOT", repo)

    def dirty(generated=()):
        return runner.machine_fields(generated)["versions"]["git_dirty"]

    assert dirty() is False
    doc.write_text("table, rebuilt\n")
    assert dirty() is True
    assert dirty(generated=[doc]) is False
    code.write_text("x = 2\n")
    assert dirty(generated=[doc]) is True


def test_write_report_refuses_a_report_that_sets_its_fields(tmp_path):
    with pytest.raises(ValueError, match="versions"):
        runner.write_report({"versions": {"torch": "mine"}}, tmp_path / "r.json")
    assert not (tmp_path / "r.json").exists()


def test_a_score_json_gains_seeds_rather_than_losing_them(tmp_path):
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


def test_a_run_is_scored_by_its_sampled_evaluation_not_a_greedy_one(tmp_path):
    _metrics(tmp_path / "metrics.csv", [(1, 1), (2, 1)])  # the final row: 2,000 frames

    def record(name, mean, **extra):
        body = {"games": 2, "frames": 2000, "seed": 12345, "scores": [mean, mean], **extra}
        for key in ("mean", "median", "min", "max"):
            body[key] = mean
        (tmp_path / name).write_text(json.dumps(body))

    record("eval-final-000000002.json", 5.0)  # the trainer's own: not the benchmark's games
    record("eval-1-greedy.json", 9.0, greedy=True)
    assert runner.final_eval(tmp_path, games=2) is None
    record("eval-2-sampled.json", 7.0, greedy=False)
    record("eval-3-greedy.json", 9.0, greedy=True)  # written after the sampled one
    assert runner.final_eval(tmp_path, games=2)["mean"] == 7.0
    assert runner.newest_eval(tmp_path)["mean"] == 7.0
    assert runner.evaluated(tmp_path, games=2)["mean"] == 7.0  # found: nothing evaluated again


def test_seeds_of_one_json_must_share_their_learning_settings():
    same = [{"lr": 3e-4, "seed": s, "torch_threads": s} for s in (0, 1)]
    assert protocol.settings_that_differ(same) == ""  # seeds and threads may differ
    other = [*same, {"lr": 1e-3, "seed": 2, "torch_threads": 0}]
    assert protocol.settings_that_differ(other) == "lr: 0.0003, 0.001"


def test_score_refuses_other_settings_than_the_kept_seeds_before_training(tmp_path, monkeypatch):
    assert protocol.planned_config(["--preset", "long", "--torch-threads", "1"]) == {
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

    monkeypatch.setattr(subprocess, "Popen", no_training)
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
    for path in _modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "kungfu_rl.training.trainer":
                names = {a.name for a in node.names}
                assert names <= {"Trainer"}, f"{path.name} imports {names} from trainer"
            if isinstance(node, ast.keyword):
                assert node.arg != "keep_features", f"{path.name} passes keep_features"


@pytest.mark.parametrize(
    "script",
    ["score.py", "suite.py", "peers/cleanrl.py", "render/suite_page.py", "render/readme_tables.py"],
)
def test_scripts_run_as_files_from_the_repository_root(script):
    """`python benchmarks/X.py`, as README.md and docs/*.md write every command."""
    done = subprocess.run(
        [runner.sys.executable, f"benchmarks/{script}", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:")


def test_suite_refuses_a_tag_whose_settings_moved(tmp_path):
    """A JSON of a tag whose settings have moved since is not overwritten by the defaults'."""
    old = {**dataclasses.asdict(Config()), "entropy_coef": 0.0025, "precision": "fp32"}
    for key in ("max_pool", "epochs", "minibatches"):  # a config.json from before them
        del old[key]
    flags = "--no-max-pool --entropy-coef 0.0025 --minibatches 1"
    out = tmp_path / "defaults-Pong-10M-seed0.json"
    out.write_text(json.dumps({"config": old}))
    args = suite.argparse.Namespace(train_args=["--torch-threads", "1"])
    with pytest.raises(SystemExit, match=f"other settings \\({flags}\\): name these"):
        suite.check_same_settings(out, "Pong", args)
    same = ["--preset", "none", *flags.split()]  # the notebook's agent, not Pong's own preset
    suite.check_same_settings(out, "Pong", suite.argparse.Namespace(train_args=same))
    suite.check_same_settings(tmp_path / "none.json", "Pong", args)  # nothing there yet


def test_suite_lets_machine_flags_run_under_the_defaults_tag():
    machine = ["--torch-threads", "1", "--env-threads=1", "--precision", "fp32"]
    assert protocol.settings_flags(machine) == []
    assert protocol.settings_flags(["--lr", "1e-3", "--torch-threads", "1"]) == ["--lr"]
    assert protocol.settings_flags(["--reward-mode=clip"]) == ["--reward-mode=clip"]


@pytest.mark.parametrize("owned", [["--seed", "1"], ["--frames=1e6"], ["--game", "Pong"]])
def test_suite_refuses_its_own_flags_after_the_separator(owned, monkeypatch, capsys):
    """`-- --seed 1` would train seed 1 in a folder and JSON named seed 0."""
    argv = ["suite.py", "--tag", "x", "--games", "Pong", "--", "--preset", "long", *owned]
    monkeypatch.setattr(suite.sys, "argv", argv)
    monkeypatch.setattr(suite, "train_and_score", lambda *a: pytest.fail("it trained"))
    with pytest.raises(SystemExit) as stopped:
        suite.main()
    assert stopped.value.code == 2
    assert "give it before --" in capsys.readouterr().err


def test_suite_adopts_a_finished_run_only_with_the_same_settings(tmp_path, monkeypatch):
    from benchmarks.render import suite_page

    monkeypatch.setattr(suite, "RESULTS", tmp_path / "results")
    generated = [ROOT / "src" / "kungfu_rl" / "measured_games.json", ROOT / "docs" / "suite.md"]
    before = [path.read_bytes() for path in generated]
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
    git = subprocess.run

    def no_training(command, *args, **kwargs):
        assert "kungfu_rl" not in command, "an adopted run is not trained or evaluated again"
        return git(command, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", no_training)
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
    assert protocol.settings_of(report["command"]) == "--preset long"
    assert f"(adopted: trained as {run}); load " in suite_page._command(report)
    # a score JSON that trained the folder is named, so a reader finds how it ran
    monkeypatch.setattr(suite, "SCORE_RESULTS", tmp_path)
    (tmp_path / "score-broken.json").write_text("{not json")
    (tmp_path / "score-other.json").write_text(json.dumps({"results": [{"run": "runs/x"}]}))
    source = {"results": [{"seed": 1, "run": str(run)}], "note": "seed 1 alone"}
    (tmp_path / "score-long.json").write_text(json.dumps(source))
    suite.main()
    report = json.loads((tmp_path / "results" / "long-KungFuMaster-40M-seed1.json").read_text())
    assert report["trained_by"] == str(tmp_path / "score-long.json")
    assert f"(adopted: trained as {run}, by {tmp_path / 'score-long.json'}," in (
        suite_page._command(report)
    )
    monkeypatch.setattr(suite.sys, "argv", [*argv, "--games", "Pong", "--", "--preset", "long"])
    with pytest.raises(SystemExit):  # one game per adopted folder
        suite.main()
    # a suite run writes its JSON and nothing else: not the package's table, not the page
    assert [path.read_bytes() for path in generated] == before


def test_throughput_versus_alternates_the_two_settings_and_divides_their_medians(monkeypatch):
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


def test_throughput_versus_takes_a_single_flag_as_its_value():
    assert throughput.parse_args(["--versus", "--max-pool"]).versus == "--max-pool"
    assert throughput.parse_args(["--versus=--max-pool"]).versus == "--max-pool"
    args = throughput.parse_args(["--seconds", "5", "--versus", "--epochs 1 --minibatches 4"])
    assert args.versus == "--epochs 1 --minibatches 4" and args.seconds == 5
    assert throughput.parse_args(["--seconds", "5"]).versus is None


def test_throughput_trains_the_game_it_is_given(monkeypatch):
    commands = []
    monkeypatch.setattr(throughput.subprocess, "run", lambda cmd, **kw: commands.append(cmd))
    monkeypatch.setattr(runner, "read_metrics", lambda path: {"time/fps": [400.0] * 8})
    settings = dict(n_games=2, env_threads=1, torch_threads=1, acting_threads=1, seconds=1.0)
    settings.update(overlap=False, precision="fp32")
    assert throughput.training(**settings, game="Seaquest")["steps_per_s"] == 100.0
    assert throughput.training(**settings)["steps_per_s"] == 100.0
    with_game, without = commands
    assert with_game[with_game.index("--game") + 1] == "Seaquest"
    assert "--game" not in without  # the defaults' Kung-Fu
    assert throughput.parse_args(["--baseline", "HEAD", "--game", "Pong"]).game == "Pong"


def test_steady_rate_leaves_out_the_warm_up_and_unlogged_rows(tmp_path, monkeypatch):
    fps = [10.0, float("nan"), 20.0, 400.0, 410.0, 390.0, 405.0, 395.0, 400.0]
    monkeypatch.setattr(runner, "read_metrics", lambda path: {"time/fps": fps})
    assert runner.steady_rate(tmp_path / "metrics.csv") == 400.0  # the median of the last 3/4


def test_network_cost_times_the_papers_network_as_published():
    net, frame = network_cost.build_network("nature", "fp32")
    assert frame == (4, 84, 84) and net.network == "nature" and net.rnn is None
    # convs 8,224 + 32,832 + 36,928; dense 3136 × 512 + 512; heads 512 × 14 + 14 and 513
    assert sum(p.numel() for p in net.parameters()) == 1_691_823
    _, (logits, values) = net.step((), torch.zeros(3, 4, 84, 84, dtype=torch.uint8))
    assert logits.shape == (3, 14) and values.shape == (3,)


@pytest.mark.parametrize("name", ["ours", "ours-84", "nature"])
def test_network_cost_iteration_acts_and_learns_once_per_pass(name, monkeypatch):
    steps = []
    step = torch.optim.Adam.step
    monkeypatch.setattr(torch.optim.Adam, "step", lambda self: steps.append(step(self)))
    iteration = network_cost._iteration_of(name, "fp32")
    iteration(1)
    iteration(4)
    assert len(steps) == 5
