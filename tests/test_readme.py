"""The generated tables of docs/results.md and README.md are the ones the committed JSONs make."""

import importlib
import json
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README_LIMIT = 15 * 1024  # bytes: a front page, with the details on docs/ pages


def _script(name: str):
    """A renderer of benchmarks/render/ (the tests import `benchmarks.*` from the root)."""
    return importlib.import_module(f"benchmarks.render.{name}")


def _results_table():
    return _script("results_table")


def test_results_score_table_matches_the_score_jsons():
    results_table = _results_table()
    readme = results_table.TARGET.read_text()
    assert results_table.BEGIN in readme and results_table.END in readme
    expected = results_table.replace_in(readme, results_table.table())
    assert readme == expected, "run: python benchmarks/render/results_table.py --write"


def test_results_score_table_fails_when_a_json_changes(tmp_path):
    results_table = _results_table()
    for path in results_table.RESULTS.glob("score-*.json"):
        shutil.copy(path, tmp_path / path.name)
    path = tmp_path / "score-one-pass-10M.json"
    data = json.loads(path.read_text())
    data["results"][0]["eval"]["mean"] += 100.0
    path.write_text(json.dumps(data))
    assert results_table.table(tmp_path) != results_table.table()


def test_readme_tables_match_the_result_jsons():
    tables = _script("readme_tables")
    readme = tables.README.read_text()
    for begin, end in (tables.KUNGFU, tables.SUITE_MARKERS):
        assert readme.count(begin) == 1 and readme.count(end) == 1
    assert readme == tables.render(readme), "run: python benchmarks/render/readme_tables.py --write"


def test_readme_tables_fail_when_a_json_changes(tmp_path):
    """The check above compares figures, not just markers: a changed result changes the table."""
    tables = _script("readme_tables")
    suite = tmp_path / "suite"
    suite.mkdir()
    for path in (tables.SUITE).glob("*.json"):
        data = json.loads(path.read_text())
        if data["tag"] == tables.TABLE_TAG and data["game"] == "Pong":
            data["eval"]["mean"] += 1.0
        (suite / path.name).write_text(json.dumps(data))
    assert tables.suite_table(suite) != tables.suite_table()


def test_readme_is_a_front_page():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.encode()) <= README_LIMIT
    headings = [line for line in readme.splitlines() if line.startswith("## ")]
    order = ["Install", "minute", "Training", "Python", "torchrun", "GPU", "Development"]
    positions = [next(i for i, h in enumerate(headings) if word in h) for word in order]
    assert positions == sorted(positions), headings
    for command in ("make train", "make test", "make test-slow"):
        assert command in readme
    notebook_names = "make_env, RecurrentAgent, EnvPool, evaluate, train_on_rollout"
    assert f"from kungfu_rl import {notebook_names}" in readme
    assert "docs/kungfu_master.gif" in readme


def test_published_figures_say_where_they_come_from():
    figures = json.loads((ROOT / "benchmarks" / "published_baselines.json").read_text())["figures"]
    assert figures
    seen = set()
    for f in figures:
        assert {"name", "agent", "game", "value", "frames", "source", "protocol"} <= set(f), f
        assert f["source"].strip()
        assert isinstance(f["value"], (int, float))
        assert f["frames"] is None or f["frames"] > 0
        assert f["protocol"]["sticky_actions"] in (True, False, None)
        assert f["protocol"]["counted"].split(":")[0] in ("training games", "evaluation games")
        assert f["protocol"]["start"].strip()
        assert (f["name"], f["game"]) not in seen, f
        seen.add((f["name"], f["game"]))


NOT_LEARNING = {
    # what was played, where it was saved, how long, and on what machine: not how it learned
    "game",
    "seed",
    "preset",
    "frames",
    "runs_dir",
    "run_name",
    "device",
    "torch_threads",
    "acting_threads",
    "precision",
    "env_threads",
    "overlap",
    "dist_timeout_s",
    "eval_every",
    "eval_games",
    "log_every",
    "checkpoint_every",
    "checkpoint_minutes",
    "keep_checkpoints",
    "max_nonfinite",
}


def _configs(tables, names):
    for name in names:
        data = json.loads((tables.RESULTS / name).read_text())
        for r in data.get("results", [data]):
            yield name, r["config"]


def _differences(config: dict, expected: dict) -> dict:
    return {
        k: (config[k], v)
        for k, v in expected.items()
        if k in config and k not in NOT_LEARNING and config[k] != v
    }


def test_the_runs_the_readme_calls_the_defaults_learned_with_the_defaults():
    """What the README's tables label `make train`'s settings is `Config()`'s, and what they
    label `--preset atari` and `--preset long` is that preset over `Config()`."""
    kungfu_rl = pytest.importorskip("kungfu_rl")
    import dataclasses

    from benchmarks.render import suite_runs
    from benchmarks.render.common import suite_results

    tables = _script("readme_tables")
    defaults = dataclasses.asdict(kungfu_rl.Config())
    results = suite_results()
    shown_defaults = [
        r for g in suite_runs.GAMES for r in suite_runs.defaults_at(results, g, suite_runs.TEN_M)
    ]
    # the 10M table's defaults column and Kung-Fu Master's setting: a run for every game,
    # chosen by `at_defaults` (the flags over the defaults) and checked here field by field
    assert {r["game"] for r in shown_defaults} == set(suite_runs.GAMES)
    for r in shown_defaults:
        assert not _differences(r["config"], defaults), r["run"]
    for name, config in _configs(tables, tables.KUNGFU_10M):
        assert not _differences(config, defaults), name
    atari = dataclasses.asdict(kungfu_rl.Config.from_preset("atari"))
    for r in results:
        if r["tag"] == suite_runs.GENERAL_TAG:
            assert r["config"]["preset"] == "atari", r["run"]
            assert not _differences(r["config"], atari), r["run"]
    long = dataclasses.asdict(kungfu_rl.Config.from_preset("long"))
    forty = [
        f"suite/{p.name}"
        for p in tables.SUITE.glob("*.json")
        if json.loads(p.read_text())["tag"] == tables.TABLE_TAG
    ]
    for name, config in _configs(tables, (*tables.KUNGFU_40M, *forty)):
        assert config["preset"] == "long", name
        assert not _differences(config, long), name


BENCHMARK_COMMAND = re.compile(r"(?:python\s+|`)(benchmarks/[\w/]+\.py)")
LEFT_THE_TREE = re.compile(r"git show\s+\w+:(benchmarks/[\w/]+\.py)")


def test_every_benchmark_command_in_the_pages_runs_a_script_as_a_file():
    """README.md and docs/*.md write every benchmark as `python benchmarks/X.py`, run from the
    repository's root; a script that left the tree is named with the commit that holds it."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    named = 0
    for page in pages:
        text = page.read_text()
        assert "python -m benchmarks" not in text, page.name
        gone = set(LEFT_THE_TREE.findall(text))
        for script in BENCHMARK_COMMAND.findall(text):
            named += 1
            assert (ROOT / script).is_file() or script in gone, f"{page.name}: {script}"
    assert named >= 20
