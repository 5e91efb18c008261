"""Settings: the one table (types, bounds, choices, resumable), and what they compute."""

import dataclasses
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from kungfu_rl.cli.parser import build_parser
from kungfu_rl.config import PRESETS, RESUMABLE, Config, ConfigError, flag, spec_of
from kungfu_rl.runs import loading
from kungfu_rl.runtime import machine

CONFIG_DIR = Path(__file__).parents[1] / "src" / "kungfu_rl" / "config"


def test_linear_schedule_falls_to_zero_at_the_budget():
    c = Config(lr=1e-3, frames=1000, n_games=2, rollout_len=5, lr_schedule="linear").validate()
    assert c.lr_at(0) == pytest.approx(1e-3)
    assert c.lr_at(250) == pytest.approx(7.5e-4)
    assert c.lr_at(1000) == 0.0 and c.lr_at(1200) == 0.0
    constant = Config(lr=1e-3, frames=1000, n_games=2, rollout_len=5).validate()
    assert constant.lr_at(0) == constant.lr_at(999) == pytest.approx(1e-3)


def test_precision_auto_picks_bf16_only_where_the_hardware_has_it(monkeypatch):
    cpu = torch.device("cpu")
    assert machine.pick_precision("fp32", cpu) == "fp32"
    assert machine.pick_precision("bf16", cpu) == "bf16"
    for native, expected in ((True, "bf16"), (False, "fp32")):
        monkeypatch.setattr(machine, "native_bf16", lambda device, native=native: native)
        assert machine.pick_precision("auto", cpu) == expected
        agent = loading.build_agent(Config(), (1, 42, 42), 14, cpu)
        assert agent.precision == expected


def test_config_module_is_a_leaf():
    """The config package imports neither torch nor ale-py: the command line checks first."""
    script = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('cfg', {str(CONFIG_DIR / '__init__.py')!r},"
        f" submodule_search_locations=[{str(CONFIG_DIR)!r}])\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "sys.modules['cfg'] = module\n"
        "spec.loader.exec_module(module)\n"
        "module.Config().validate()\n"
        "heavy = {'torch', 'ale_py', 'numpy', 'gymnasium'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def _numeric_fields():
    return [f for f in dataclasses.fields(Config) if str(f.type) in ("int", "float")]


@pytest.mark.parametrize("f", _numeric_fields(), ids=lambda f: f.name)
def test_every_bound_in_the_table_is_enforced(f):
    spec = spec_of(f)
    assert spec.low is not None, f"{f.name} has no lower bound"
    small = Config(n_games=2, rollout_len=5, frames=10**9)  # room for every other bound
    below = spec.low if spec.low_open else spec.low - 1
    with pytest.raises(ConfigError, match=flag(f.name)):
        dataclasses.replace(small, **{f.name: below}).validate()
    if spec.high is not None:
        with pytest.raises(ConfigError, match=flag(f.name)):
            dataclasses.replace(small, **{f.name: spec.high * 2 + 1}).validate()
    for bad in ("3", None, True, [1]):
        with pytest.raises(ConfigError, match=flag(f.name)):
            dataclasses.replace(small, **{f.name: bad}).validate()
    if str(f.type) == "float":
        for bad in (math.inf, -math.inf, math.nan):
            with pytest.raises(ConfigError, match=flag(f.name)):
                dataclasses.replace(small, **{f.name: bad}).validate()
    else:
        with pytest.raises(ConfigError, match="whole number"):
            dataclasses.replace(small, **{f.name: 2.5}).validate()
    # the default itself passes
    dataclasses.replace(small, **{f.name: f.default}).validate()


def test_choices_and_plain_names_are_checked():
    for name in ("core", "precision", "device", "lr_schedule"):
        with pytest.raises(ConfigError, match=flag(name)):
            Config(**{name: "nonsense"}).validate()
    for name in ("a/b", "..", "x\ny", ""):
        if name:
            with pytest.raises(ConfigError, match="--run-name"):
                Config(run_name=name).validate()
    with pytest.raises(ConfigError, match="less than one update"):
        Config(frames=100).validate()
    assert Config(core="gru").validate().core == "gru"


def test_a_frame_size_between_the_two_is_refused_in_one_line():
    assert Config(frame_size=84).validate().frame_size == 84
    with pytest.raises(ConfigError, match="--frame-size must be 42 or 84, got 60"):
        Config(frame_size=60).validate()


def test_the_resumable_set_comes_from_the_table():
    marked = {f.name for f in dataclasses.fields(Config) if spec_of(f).resumable}
    assert marked == RESUMABLE
    # what defines the run may not change on resume
    assert {"game", "lr", "core", "hidden", "n_games", "seed", "gamma"}.isdisjoint(RESUMABLE)
    assert {"frames", "eval_every", "checkpoint_every", "torch_threads"} <= RESUMABLE


def test_help_lists_every_setting_in_its_group_with_its_choices():
    text = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    for f in dataclasses.fields(Config):
        assert flag(f.name) in text
        assert spec_of(f).group + ":" in text
    assert "{lstm,gru,none}" in text and "{auto,cpu,cuda}" in text
    assert "--frames N" in text and "--lr X" in text and "--game GAME" in text


def test_a_preset_sets_its_values_and_flags_given_beside_it_win():
    long = Config.from_preset("long").validate()
    assert long.preset == "long"
    assert all(getattr(long, k) == v for k, v in PRESETS["long"].items())
    mine = Config.from_preset("long", frames=20_000_000, seed=4).validate()
    assert (mine.frames, mine.seed, mine.lr_schedule) == (20_000_000, 4, "linear")
    assert Config.from_preset().preset == "none" and Config.from_preset() == Config()
    with pytest.raises(ConfigError, match="--preset must be one of none, long"):
        Config.from_preset("longest")
    for name, values in PRESETS.items():  # every preset names real settings, in bounds
        assert set(values) <= {f.name for f in dataclasses.fields(Config)}
        Config.from_preset(name).validate()


def test_train_writes_the_presets_values_to_config_json(tmp_path):
    import json

    from kungfu_rl.cli import main

    args = [
        "train",
        "--preset",
        "long",
        "--frames",
        "64",
        "--n-games",
        "2",
        "--rollout-len",
        "2",
        "--hidden",
        "8",
        "--channels",
        "4",
        "--eval-every",
        "0",
        "--no-progress",
        "--runs-dir",
        str(tmp_path),
        "--run-name",
        "p",
        "--env-threads",
        "1",
    ]
    assert main(args) == 0
    saved = json.loads((tmp_path / "p" / "config.json").read_text())
    assert saved["preset"] == "long" and saved["lr_schedule"] == "linear"
    assert saved["frames"] == 64  # the flag given beside the preset
