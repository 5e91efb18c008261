"""One validating reader per kind of run-folder file, and flags bounded where they are parsed.

The fuzz test (test_fuzz_run_folder.py) runs every command on damaged copies of a real run;
these are the readers' own contracts, case by case, and the bounds of what a user types.
"""

import json
import math
import os
import random

import pytest
import torch

from kungfu_rl import Config, RecurrentAgent
from kungfu_rl.cli import main
from kungfu_rl.config import MAX_SEED, ConfigError
from kungfu_rl.runs.checkpoints import (
    find_checkpoint,
    read_checkpoint,
    read_newest_checkpoint,
    rng_state,
    save_checkpoint,
)
from kungfu_rl.runs.errors import CheckpointError, RunFileError
from kungfu_rl.runs.files import read_config, read_eval_record, read_eval_records, set_aside
from kungfu_rl.runs.metrics import COLUMNS, read_metrics, truncate_metrics
from kungfu_rl.runtime.machine import seed_everything

TINY = Config(hidden=16, channels=8)


def payload(update: int = 4) -> dict:
    """A checkpoint as the trainer writes it, of a tiny network."""
    agent = RecurrentAgent(hidden=16, channels=8)
    optimizer = torch.optim.Adam(agent.parameters())
    _, (logits, _) = agent(agent.get_initial_state(1), torch.zeros(1, 1, 42, 42))
    logits.sum().backward()
    optimizer.step()  # moments in the state, as after training
    return {
        "model": agent.state_dict(),
        "optimizer": optimizer.state_dict(),
        "update": update,
        "frames": update * 32,
        "elapsed_s": 1.5,
        "config": TINY.to_json(),
        "rng": rng_state(),
        "evaluations": [{"update": 2, "frames": 64, "mean": 1.0, "median": 1, "min": 0, "max": 2}],
        "world_size": 1,
    }


def saved(tmp_path, data: dict, name: str = "c.pt"):
    path = tmp_path / name
    torch.save(data, path)
    return path


def with_(data: dict, path: tuple, value) -> dict:
    """`data` with the value at `path` (keys into nested dicts and lists) replaced."""
    if len(path) == 1:
        out = dict(data) if isinstance(data, dict) else list(data)
        out[path[0]] = value
        return out
    out = dict(data) if isinstance(data, dict) else list(data)
    out[path[0]] = with_(data[path[0]], path[1:], value)
    return out


# --- checkpoints ---------------------------------------------------------------------------


def test_a_checkpoint_as_the_trainer_writes_it_reads(tmp_path):
    loaded = read_checkpoint(saved(tmp_path, payload()), resumable=True)
    assert loaded["update"] == 4
    # unknown keys are a newer version's: read, ignored
    extra = {**payload(), "surprise": [1, "two"]}
    assert read_checkpoint(saved(tmp_path, extra))["frames"] == 128


def wrong_optimizer_moment() -> dict:
    p = payload()
    state = p["optimizer"]["state"]
    return with_(p, ("optimizer", "state"), {**state, 0: {**state[0], "exp_avg": torch.ones(3)}})


DAMAGED = {
    "not a table": lambda: [1, 2, 3],
    "no model": lambda: {k: v for k, v in payload().items() if k != "model"},
    "update as text": lambda: with_(payload(), ("update",), "4"),
    "negative frames": lambda: with_(payload(), ("frames",), -1),
    "huge update": lambda: with_(payload(), ("update",), 10**30),
    "more updates than frames": lambda: with_(payload(), ("update",), 10**6),
    "config not text": lambda: with_(payload(), ("config",), {"hidden": 16}),
    "config a JSON list": lambda: with_(payload(), ("config",), "[1, 2]"),
    "config game a number": lambda: with_(payload(), ("config",), '{"game": 42}'),
    "config another network": lambda: with_(payload(), ("config",), Config().to_json()),
    "config cut short": lambda: with_(payload(), ("config",), TINY.to_json()[:50]),
    "config non-finite": lambda: with_(payload(), ("config",), '{"lr": NaN}'),
    "weight not finite": lambda: with_(
        payload(), ("model", "hid.bias"), torch.full((16,), math.nan)
    ),
    "weight huge": lambda: with_(payload(), ("model", "hid.bias"), torch.full((16,), 3e38)),
    "weight of text": lambda: with_(payload(), ("model", "hid.bias"), "seven"),
    "weight missing": lambda: with_(
        payload(), ("model",), {k: v for k, v in payload()["model"].items() if k != "hid.bias"}
    ),
    "two parameter groups": lambda: with_(
        payload(),
        ("optimizer", "param_groups"),
        payload()["optimizer"]["param_groups"] * 2,
    ),
    "optimizer moment of another shape": wrong_optimizer_moment,
    "optimizer lr infinite": lambda: with_(
        payload(),
        ("optimizer", "param_groups"),
        [{**payload()["optimizer"]["param_groups"][0], "lr": math.inf}],
    ),
    "rng cut short": lambda: with_(payload(), ("rng", "python"), [3, [1, 2], None]),
    "rng torch state of text": lambda: with_(payload(), ("rng", "torch"), "seven"),
    "evaluation mean missing": lambda: with_(payload(), ("evaluations",), [{"update": 1}]),
    "elapsed infinite": lambda: with_(payload(), ("elapsed_s",), math.inf),
}


@pytest.mark.parametrize("damage", DAMAGED, ids=str)
def test_a_damaged_checkpoint_is_unreadable_with_its_reason(tmp_path, damage):
    path = saved(tmp_path, DAMAGED[damage]())
    with pytest.raises(CheckpointError, match=r"is unreadable: \S") as err:
        read_checkpoint(path, resumable=True)
    message = str(err.value)
    assert message.startswith(str(path)) and "\n" not in message and err.value.reason in message


def test_a_resume_asks_for_more_than_playing_does(tmp_path):
    weights_only = {k: payload()[k] for k in ("model", "config")}  # as the packaged agent
    path = saved(tmp_path, weights_only)
    assert read_checkpoint(path)["config"] == TINY.to_json()
    with pytest.raises(CheckpointError, match="no optimizer, update, frames"):
        read_checkpoint(path, resumable=True)


@pytest.mark.parametrize(
    "data",
    [b"", os.urandom(3000), b"\0" * 3000, b"PK\x03\x04" + os.urandom(300)],
    ids=["empty", "random bytes", "NUL bytes", "a zip cut short"],
)
def test_no_message_advises_weights_only_false(tmp_path, data):
    path = tmp_path / "c.pt"
    path.write_bytes(data)
    with pytest.raises(CheckpointError, match="is unreadable") as err:
        read_checkpoint(path)
    assert "weights_only" not in str(err.value) and "\n" not in str(err.value)


def test_newest_is_the_update_count_inside_and_the_unreadable_are_named(tmp_path, capsys):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    torch.save(payload(8), folder / "update-000000001.pt")  # a name that says older
    torch.save(payload(4), folder / "update-000000004.pt")
    (folder / "update-000000009.pt").write_bytes(b"cut")
    path, loaded, skipped = read_newest_checkpoint(tmp_path)
    assert path.name == "update-000000001.pt" and loaded["update"] == 8
    assert [(p.name, "is unreadable" not in why) for p, why in skipped] == [
        ("update-000000009.pt", True)  # the reason alone: the warning names the file
    ]
    assert find_checkpoint(tmp_path) == path
    assert capsys.readouterr().err.startswith("warning: skipped update-000000009.pt: ")


def test_no_loadable_checkpoint_names_each_unreadable_one(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for n in (1, 2):
        (folder / f"update-00000000{n}.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="no loadable checkpoint") as err:
        read_newest_checkpoint(tmp_path)
    assert [p.name for p, _ in err.value.skipped] == ["update-000000001.pt", "update-000000002.pt"]


def test_what_is_set_aside_keeps_its_bytes_under_a_free_name(tmp_path):
    for content in (b"one", b"two"):
        (tmp_path / "update-1.pt").write_bytes(content)
        set_aside(tmp_path / "update-1.pt")
    aside = sorted((tmp_path / "unreadable").iterdir())
    assert [(p.name, p.read_bytes()) for p in aside] == [
        ("update-1-1.pt", b"two"),
        ("update-1.pt", b"one"),
    ]


# --- config.json ---------------------------------------------------------------------------


def test_config_json_reads_through_the_command_lines_table(tmp_path):
    (tmp_path / "config.json").write_text(Config(game="kung_fu_master", seed=7).to_json())
    config = read_config(tmp_path)
    assert config.game == "KungFuMaster" and config.seed == 7  # settled: the canonical name


@pytest.mark.parametrize(
    "text",
    [
        "",
        Config().to_json()[:40],
        "[1, 2]",
        '{"game": 42}',
        '{"hidden": "many"}',
        '{"lr": Infinity}',
        '{"seed": 4294967296}',
        '{"frames": ' + "9" * 5000 + "}",
        "[" * 100_000,
        '{"run_name": "a\\nb"}',
        '{"core": "transformer"}',
    ],
    ids=lambda t: t[:20] or "empty",
)
def test_a_damaged_config_json_is_one_line(tmp_path, text):
    (tmp_path / "config.json").write_text(text)
    with pytest.raises(RunFileError, match=r"config\.json is unreadable: ") as err:
        read_config(tmp_path)
    assert "\n" not in str(err.value) and len(str(err.value)) < 400


def test_a_config_json_that_is_not_utf8_or_missing_is_one_line(tmp_path):
    with pytest.raises(RunFileError, match="it is missing"):
        read_config(tmp_path)
    (tmp_path / "config.json").write_bytes(b'{"game": "\xff\xfe"}')
    with pytest.raises(RunFileError, match="not UTF-8"):
        read_config(tmp_path)


# --- eval-*.json ---------------------------------------------------------------------------

RECORD = {"games": 2, "scores": [100.0, 300.0], "mean": 200.0, "median": 200.0, "min": 100.0}


@pytest.mark.parametrize(
    "record",
    [
        {**RECORD, "scores": [], "games": 0},
        {**RECORD, "scores": ["a", "b"]},
        {**RECORD, "scores": [math.nan, 1.0]},
        {**RECORD, "max": None},
        {**RECORD, "games": 5},
        {**RECORD, "videos": {"0": "../../elsewhere.mp4"}},
        {**RECORD, "videos": {"7": "videos/game-07.mp4"}},
        [1, 2],
    ],
)
def test_a_damaged_eval_record_is_unreadable_and_skipped_with_a_warning(tmp_path, capsys, record):
    good = {**RECORD, "max": 300.0}
    (tmp_path / "eval-a.json").write_text(json.dumps(good))
    (tmp_path / "eval-b.json").write_text(json.dumps(record))
    with pytest.raises(RunFileError, match=r"eval-b\.json is unreadable: "):
        read_eval_record(tmp_path / "eval-b.json")
    assert [path.name for path, _ in read_eval_records(tmp_path)] == ["eval-a.json"]
    assert capsys.readouterr().err.startswith("warning: skipped eval-b.json: ")


# --- metrics.csv ---------------------------------------------------------------------------


def metrics_file(tmp_path, updates: list[int]):
    """metrics.csv as the logger writes it, a row per update (update, frames, blanks)."""
    path = tmp_path / "metrics.csv"
    rows = [f"{u},{u * 32}" + "," * (len(COLUMNS) - 2) for u in updates]
    path.write_text("\r\n".join([",".join(COLUMNS), *rows]) + "\r\n")
    return path


def test_damaged_metrics_rows_are_skipped_counted_and_never_carried_on(tmp_path, capsys):
    rng = random.Random(0)
    path = metrics_file(tmp_path, [1, 2, 3, 4, 5])
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2][:5]  # update 2: cut short
    lines[3] = rng.randbytes(len(lines[3]))  # update 3: random bytes
    lines[4] = lines[4].replace(b",", b",inf", 1)  # update 4: a non-finite cell
    lines.insert(5, b"\0" * 40 + b"\xff\xfe")  # NUL bytes, not UTF-8
    damaged = b"\n".join(lines)
    path.write_bytes(damaged)
    assert read_metrics(path)["update"] == [1.0, 5.0]
    assert "skipped 4 damaged row(s)" in capsys.readouterr().err
    truncate_metrics(path, last_update=4)
    assert read_metrics(path)["update"] == [1.0]
    assert "kept as unreadable/metrics.csv" in capsys.readouterr().err
    assert (tmp_path / "unreadable" / "metrics.csv").read_bytes() == damaged
    truncate_metrics(path, last_update=4)  # nothing damaged now: nothing set aside
    assert not (tmp_path / "unreadable" / "metrics-1.csv").exists()


def test_a_metrics_file_of_random_bytes_is_all_skipped_not_fatal(tmp_path, capsys):
    path = tmp_path / "metrics.csv"
    path.write_bytes(random.Random(1).randbytes(200_000))  # a "cell" larger than csv allows
    assert read_metrics(path)["frames"] == []
    assert "damaged row(s)" in capsys.readouterr().err


# --- flags and names: bounded where they are parsed ----------------------------------------


@pytest.mark.parametrize(
    "flags",
    [
        ["--seed", str(2**32)],
        ["--seed", str(2**70)],
        ["--lr", "inf"],
        ["--entropy-coef", "inf"],
        ["--reward-scale", "nan"],
        ["--frames", "1e400"],
        ["--frames", "9" * 30],
        ["--hidden", str(10**9)],
        ["--max-episode-frames", str(2**40)],
        ["--n-games", "100000", "--frames", "400"],
        ["--run-name", "r" * 300],
        ["--run-name", "a\nb"],
        ["--run-name", "../up"],
    ],
    ids=lambda f: " ".join(f)[:30],
)
def test_a_bad_flag_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, flags):
    runs = tmp_path / "runs"
    code = main(["train", "--runs-dir", str(runs), *flags])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("kungfu: error: ") and err.count("\n") == 1, err
    assert not runs.exists()


@pytest.mark.parametrize(
    "text", ['{"seed": ' + "9" * 5000 + "}", "[" * 100_000, '{"lr": 1e999}', '{"frames": 1e400}']
)
def test_config_text_that_python_cannot_hold_is_a_config_error(text):
    with pytest.raises(ConfigError):
        Config.from_json(text).validate()


def test_the_largest_seed_plays_however_many_games(tmp_path):
    from kungfu_rl.agent.pool import EnvPool
    from kungfu_rl.envs.atari import make_env

    agent = RecurrentAgent(hidden=16, channels=8)
    for seed in (MAX_SEED, MAX_SEED + 2**40):  # a seed plus the games a long run has played
        pool = EnvPool(agent, make_env, 2, seed=seed, env_threads=1)
        pool.close()
    seed_everything(2**40)  # numpy's own limit is 2**32


def test_a_plot_title_is_shown_letter_for_letter(tmp_path):
    from kungfu_rl.runs.plots import plot_learning_curves

    path = metrics_file(tmp_path, [1, 2])
    out = plot_learning_curves(path, tmp_path / "c.png", title="y$\\frac{$ x_1^2")
    assert out.stat().st_size > 0


def test_a_start_that_ended_before_its_first_checkpoint_leaves_its_name_free(
    tmp_path, capsys, monkeypatch
):
    import kungfu_rl.training.launch

    flags = ["--runs-dir", str(tmp_path), "--run-name", "r", "--n-games", "2", "--rollout-len"]
    flags += ["4", "--frames", "64", "--hidden", "16", "--channels", "8", "--eval-every", "0"]
    flags += ["--log-every", "1", "--torch-threads", "1", "--env-threads", "1", "--no-progress"]

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C while the games start

    monkeypatch.setattr(kungfu_rl.training.launch, "Trainer", interrupted)
    assert main(["train", *flags]) == 130
    assert (tmp_path / "r" / "config.json").is_file()  # the stub
    (tmp_path / "r" / "metrics.csv").write_text("update,frames\n1,32\n")  # a row it logged
    capsys.readouterr()
    assert main(["train", "--resume", str(tmp_path / "r")]) == 2
    assert "stopped before its first one" in capsys.readouterr().err
    monkeypatch.undo()
    assert main(["train", *flags]) == 0
    assert "starting anew" in capsys.readouterr().err
    assert read_metrics(tmp_path / "r" / "metrics.csv")["update"] == [1.0, 2.0]
    assert main(["train", *flags]) == 2  # now it holds a run: its name is taken
    assert "holds a run already" in capsys.readouterr().err


def test_what_the_trainer_saves_reads_back_whole(tmp_path):
    path = save_checkpoint(payload(6), tmp_path, 6, keep=2)
    loaded = read_checkpoint(path, resumable=True)
    assert set(loaded) == set(payload()) and loaded["update"] == 6


@pytest.mark.parametrize("content", [b"\xc2\xb2\n", b"\xff\xfe\0", b"9" * 64, b""])
def test_a_damaged_lock_file_still_names_its_holder_in_one_line(tmp_path, content):
    import fcntl

    from kungfu_rl.runs.lock import LOCK_FILE, RunLock, RunLocked

    (tmp_path / LOCK_FILE).write_bytes(content)
    with (tmp_path / LOCK_FILE).open("rb") as held:  # another writer holds the run folder
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(RunLocked, match="is in use: ") as err:
            RunLock().acquire(tmp_path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "flags",
    [["--seed", "-1"], ["--seed", str(2**70)], ["--games", "0"], ["--games", "1e400"]],
    ids=" ".join,
)
def test_eval_flags_are_bounded_where_parsed(tmp_path, capsys, flags):
    code = main(["eval", str(tmp_path), *flags])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("kungfu: error: ") and err.count("\n") == 1, err
