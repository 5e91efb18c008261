"""What the runners and the renderers share: the suite's games, where the results live, and a
run's settings told as the `kungfu train` flags that make the defaults learn as it did.

Nothing here starts a process or imports torch: the renderers read the JSONs with it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
"""score-*.json (benchmarks/score.py) and the other runners' JSONs."""
SUITE_RESULTS = RESULTS / "suite"
"""One JSON per suite run (benchmarks/suite.py)."""
PUBLISHED = ROOT / "benchmarks" / "published_baselines.json"
"""Every published figure the pages put beside ours, each with its source and protocol."""
GAMES = ("Pong", "Breakout", "Seaquest", "SpaceInvaders", "BeamRider", "Qbert", "KungFuMaster")
"""The suite's games, in the order the tables list them."""

HOW_IT_RAN = {"seed", "run_name", "runs_dir", "device", "precision"}
HOW_IT_RAN |= {"torch_threads", "env_threads", "acting_threads"}
"""Config keys that may differ between the seeds of one JSON: where and how a run ran, not
what it learned with (precision: "auto" resolves per machine)."""
NOT_LEARNED = {"game", "seed", "preset", "runs_dir", "run_name"}
"""Settings that say what was played and where it was saved, not how it learned; the
resumable ones (budget, machine, evaluation, saving) are left out beside them."""
RUN_FLAGS = ("--game", "--frames", "--seed", "--runs-dir", "--run-name")
"""The flags the suite sets for every run."""
MACHINE_FLAGS = tuple("--" + k.replace("_", "-") for k in sorted(HOW_IT_RAN - {"seed"}))


def settings_that_differ(configs: list[dict]) -> str:
    """'' when every config agrees on every setting outside HOW_IT_RAN, else the first that
    does not, with its values."""
    for key in sorted({k for c in configs for k in c} - HOW_IT_RAN):
        values = {repr(c.get(key)) for c in configs}
        if len(values) > 1:
            return f"{key}: {', '.join(sorted(values))}"
    return ""


def planned_config(train_args: list[str]) -> dict:
    """The settings `kungfu train *train_args` would run with, as config.json records them
    (less what is resolved as it starts: HOW_IT_RAN's machine settings)."""
    from kungfu_rl.cli.parser import UsageError, build_parser, given_settings
    from kungfu_rl.config import Config, ConfigError
    from kungfu_rl.envs.game_preset import with_game_preset

    try:
        given = given_settings(build_parser().parse_args(["train", *train_args]))
        given, _ = with_game_preset(given)  # as `kungfu train` starts a new run
        return dataclasses.asdict(Config.from_preset(**given).validate())
    except (UsageError, ConfigError) as e:
        raise SystemExit(f"kungfu train {' '.join(train_args)}: {e}") from None


def flags_over_defaults(config: dict) -> str:
    """The `kungfu train` flags that make the defaults learn as a run whose recorded config
    is `config` did ('' for a run at the defaults). A tag names the settings its runs ran
    with; where a default has moved since, its runs keep their figures, and this says how to
    run them again."""
    from kungfu_rl.config import Config, flag, spec_of

    ran, defaults = Config.from_dict(config), Config()
    flags = []
    for f in dataclasses.fields(Config):
        if f.name in NOT_LEARNED or spec_of(f).resumable:
            continue
        value = getattr(ran, f.name)
        if value == getattr(defaults, f.name):
            continue
        if isinstance(value, bool):
            flags.append(flag(f.name) if value else "--no-" + flag(f.name)[2:])
        elif isinstance(value, float):
            flags.append(f"{flag(f.name)} {value:g}")
        else:
            flags.append(f"{flag(f.name)} {value}")
    return " ".join(flags)


def at_defaults(result: dict) -> bool:
    """Whether a suite JSON's run learned with the defaults, whatever its tag."""
    return flags_over_defaults(result["config"]) == ""


def preset_of(config: dict) -> str | None:
    """The preset a run named (config.json's `preset`) where it learned exactly as that
    preset does over the defaults, else None: `--preset NAME` then says how to run it again."""
    from kungfu_rl.config import Config, ConfigError

    name = config.get("preset")
    if not name or name == "none":
        return None
    try:
        preset = dataclasses.asdict(Config.from_preset(name))
    except ConfigError:  # a name the package no longer has
        return None
    return name if flags_over_defaults(config) == flags_over_defaults(preset) else None


def settings_in_flags(config: dict) -> str:
    """A run's settings as a person types them: `--preset NAME` where the run learned as that
    preset does, else its flags over the defaults ('' at the defaults)."""
    preset = preset_of(config)
    return f"--preset {preset}" if preset else flags_over_defaults(config)


def settings_of(command: str, machine: bool = True) -> str:
    """The flags of a run's `kungfu train ...` command besides those the suite sets for
    every run (game, frames, seed, folders, --no-progress), and without the machine's
    (threads, device, precision) unless `machine`: "" for the defaults."""
    dropped = RUN_FLAGS if machine else RUN_FLAGS + MACHINE_FLAGS
    kept: list[str] = []
    skip = False
    for word in command.split()[2:]:
        if skip:
            skip = False
        elif word in dropped:
            skip = True  # its value follows
        elif word != "--no-progress" and word.split("=")[0] not in dropped:
            kept.append(word)
    return " ".join(kept)


def settings_flags(train_args: list[str]) -> list[str]:
    """The flags in `train_args` that change what a run learns: all but the machine's
    (threads, device, precision), which say only how it ran (HOW_IT_RAN)."""
    machine = {name.replace("_", "-") for name in HOW_IT_RAN}
    flags = [a for a in train_args if a.startswith("--")]
    return [f for f in flags if f[2:].split("=")[0].removeprefix("no-") not in machine]
