"""Every file a run folder holds, read back through one validating reader per kind.

A run folder is written by one process and read by many (`eval`, `report`, `plot`, a
resume), and any file in it may be damaged: cut short by a kill or a full disk, edited by
hand, copied from another run. Each kind has one reader here. It returns what it promises,
every type, bound and choice checked (a config through the very table the command line
uses), or raises an error whose message is one line naming the file and what is wrong
with it. What follows is the caller's to decide: fall back to an older checkpoint, skip
the file with a one-line warning, or stop with exit code 2.

    checkpoints/update-*.pt, best.pt   read_checkpoint, read_newest_checkpoint, find_checkpoint
    config.json                        read_config
    metrics.csv                        logger.read_metrics (a damaged row is skipped, counted)
    eval-*.json                        read_eval_record, read_eval_records
    .lock                              runlock (the pid it holds)
    report.html, plots/, videos/, TensorBoard events: written here, never read back

Nothing here deletes a file: what cannot be read stays where it is, or is moved aside by
its writer with `set_aside` (a resume, a checkpoint's rotation).
"""

from __future__ import annotations

import functools
import json
import math
import pickle
import random
import re
import shutil
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..agent.networks import RecurrentAgent
from ..config import Config, ConfigError
from ..envs.games import resolve_game

CHECKPOINT_DIR = "checkpoints"
UNREADABLE_DIR = "unreadable"
"""Where a writer moves a file it cannot read (checkpoints/unreadable/, unreadable/)."""
MAX_COUNT = 10**15
"""Largest update or frame count a checkpoint may hold: far beyond any run, small enough
that the seeds and the progress derived from it stay plain numbers."""
MAX_WEIGHT = 1e6
"""Largest weight magnitude a checkpoint may hold; a network this large would overflow
float32 in its forward pass, and no training with a clipped gradient gets near it."""
MAX_JSON_BYTES = 1 << 20
"""config.json and the eval records are a few kB; a larger one is not this package's."""
_RNG_LAYOUT = {"torch", "numpy_keys", "numpy_pos", "python"}
_ADAM_FLAGS = ("amsgrad", "maximize", "capturable", "differentiable", "decoupled_weight_decay")


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable or not a kungfu_rl checkpoint.

    `reason` is the message without the file's path, for a warning that names the file;
    `skipped`, for a run with no loadable checkpoint, the unreadable ones and their reasons.
    """

    def __init__(
        self, message: str, reason: str | None = None, skipped: list[tuple[Path, str]] | None = None
    ):
        super().__init__(message)
        self.reason = reason or message
        self.skipped = skipped or []


class RunFileError(ConfigError):
    """A run folder's config.json or eval record that is missing or damaged (one line)."""


class _Damaged(Exception):
    """What is wrong inside a file; the reader adds the file's name."""


def warn(message: str) -> None:
    """One line on stderr: `warning: <message>`."""
    print(f"warning: {message}", file=sys.stderr)


def settle(config: Config) -> Config:
    """Validate `config` and give its game's canonical name (ConfigError if there is none).

    The one schema: the command line's settings, config.json and every checkpoint's
    config pass through here.
    """
    config.validate()
    try:
        config.game = resolve_game(config.game)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    return config


def set_aside(path: Path, copy: bool = False) -> Path:
    """Move `path` (or with `copy`, copy it) into unreadable/ beside it, a number added to
    its name if that is taken; where it went."""
    folder = path.parent / UNREADABLE_DIR
    folder.mkdir(exist_ok=True)
    target, n = folder / path.name, 1
    while target.exists():
        target, n = folder / f"{path.stem}-{n}{path.suffix}", n + 1
    if copy:
        shutil.copyfile(path, target)
    else:
        shutil.move(str(path), target)
    return target


# --- checkpoints --------------------------------------------------------------------------


def list_checkpoints(run_dir: Path) -> list[Path]:
    """The run's update-*.pt files by name; which is newest is the update count inside
    them (`read_newest_checkpoint`), not the name."""
    return sorted((Path(run_dir) / CHECKPOINT_DIR).glob("update-*.pt"))


def read_checkpoint(path: Path, resumable: bool = False) -> dict[str, Any]:
    """A checkpoint's payload with every part checked, or CheckpointError ("unreadable")
    naming the file and the first thing wrong with it.

    Loaded with `torch.load(weights_only=True)`: tensors and plain values only, never code.
    Checked: the config (through `settle`, as the command line's), the weights (the names,
    shapes and finite values of the network that config builds) and, where present, the
    counters, the optimizer state, the RNG states and the evaluations. `resumable` also
    asks for what a resume needs (optimizer, update, frames); the packaged agent holds the
    weights and the config only.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    payload = _load_plain(path)
    try:
        _check_payload(payload, resumable)
    except _Damaged as e:
        raise _unreadable(path, str(e)) from None
    return payload


def read_newest_checkpoint(run_dir: Path) -> tuple[Path, dict[str, Any], list[tuple[Path, str]]]:
    """The run's newest resumable checkpoint, newest by the update count it holds (not its
    file name), and every unreadable one with its reason, to say that it was skipped.

    CheckpointError when the run holds none that reads.
    """
    run_dir = Path(run_dir)
    found = list_checkpoints(run_dir)
    if not found and (run_dir / "config.json").is_file() and never_saved(run_dir):
        raise CheckpointError(
            f"{run_dir} holds no checkpoint: it stopped before its first one; start it anew "
            f"with kungfu train --runs-dir {run_dir.parent} --run-name {run_dir.name} ..."
        )
    if not found:
        raise CheckpointError(
            f"{run_dir} holds no checkpoint (looked in {run_dir / CHECKPOINT_DIR})"
        )
    newest: tuple[tuple[int, int, str], Path, dict[str, Any]] | None = None
    skipped: list[tuple[Path, str]] = []
    for path in found:
        try:
            payload = read_checkpoint(path, resumable=True)
        except CheckpointError as e:
            skipped.append((path, e.reason))
            continue
        order = (payload["update"], payload["frames"], path.name)
        if newest is None or order > newest[0]:
            newest = (order, path, payload)
    if newest is None:
        raise CheckpointError(
            f"{run_dir} has no loadable checkpoint ({len(skipped)} unreadable; "
            f"{skipped[-1][0].name}: {skipped[-1][1]})",
            skipped=skipped,
        )
    return newest[1], newest[2], skipped


def never_saved(run_dir: Path) -> bool:
    """Whether a run folder holds no checkpoint file at all, not even an unreadable one set
    aside: a start that ended before its first checkpoint, whose name may be used anew."""
    folder = Path(run_dir) / CHECKPOINT_DIR
    return not any(p.is_file() and not p.name.startswith(".tmp-") for p in folder.rglob("*"))


def warn_skipped(skipped: list[tuple[Path, str]], using: Path | None = None) -> None:
    """One warning line per unreadable checkpoint passed over, naming the one used."""
    for path, why in skipped:
        warn(f"skipped {path.name}: {why}" + (f"; using {using.name}" if using else ""))


def find_checkpoint(run_or_file: Path | str) -> Path:
    """A checkpoint file as given, or a run folder's newest loadable one (the unreadable
    ones passed over are named in warnings)."""
    p = Path(run_or_file)
    if p.is_file():
        return p
    if not p.is_dir():
        raise CheckpointError(f"no run folder or checkpoint at {p}")
    path, _, skipped = read_newest_checkpoint(p)
    warn_skipped(skipped, using=path)
    return path


def checkpoint_order(path: Path) -> tuple[int, int] | str:
    """(update, frames) of a resumable checkpoint, or why it is unreadable; remembered per
    file version, so a rotation reads each checkpoint once."""
    try:
        st = path.stat()
    except OSError as e:
        return e.strerror or str(e)
    return _order(str(path), st.st_ino, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _order(path: str, ino: int, size: int, mtime_ns: int) -> tuple[int, int] | str:
    try:
        payload = read_checkpoint(Path(path), resumable=True)
    except CheckpointError as e:
        return e.reason
    return payload["update"], payload["frames"]


def _unreadable(path: Path, reason: str) -> CheckpointError:
    return CheckpointError(f"{path} is unreadable: {reason}", reason=reason)


def _load_plain(path: Path) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's pickle-protocol notice: not the user's
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        reason = f"refused, it holds more than weights ({_torch_reason(e)})"
        raise _unreadable(path, reason) from None
    except Exception as e:  # damaged bytes make torch.load raise almost any type
        raise _unreadable(path, _torch_reason(e)) from None


_ADVICE = re.compile(
    r"weights_only|trusted source|arbitrary code|file an issue|documentation|safe_globals|"
    r"internal miniz error|high likelihood|not saved properly"
)


def _torch_reason(error: BaseException) -> str:
    """torch.load's message in a few words, without its advice (never weights_only=False)."""
    text = str(error)
    if "legacy .tar format" in text:
        return "saved in torch's legacy .tar format, not a zip checkpoint"
    text = text.split("WeightsUnpickler error:", 1)[-1]
    sentences = [s.strip() for s in re.split(r"(?<=\.)\s+|\n", text) if s.strip()]
    kept = [s for s in sentences if not _ADVICE.search(s)]
    name = type(error).__name__
    return f"{name}: {kept[0][:200].rstrip('.')}" if kept else f"{name}, cut short or damaged"


def _check_payload(payload: Any, resumable: bool) -> None:
    if not isinstance(payload, dict):
        raise _Damaged(f"it holds a {type(payload).__name__}, not a kungfu_rl checkpoint")
    needed = ("model", "config", *(("optimizer", "update", "frames") if resumable else ()))
    missing = [k for k in needed if k not in payload]
    if missing:
        raise _Damaged(f"not a kungfu_rl checkpoint (no {', '.join(missing)})")
    if not isinstance(payload["config"], str):
        raise _Damaged("its config is not JSON text")
    try:
        config = settle(Config.from_json(payload["config"]))
    except ConfigError as e:
        raise _Damaged(f"its config does not validate: {e}") from None
    model = payload["model"]
    head = model.get("logits.weight") if isinstance(model, dict) else None
    if not (isinstance(head, torch.Tensor) and head.dim() == 2 and 1 <= head.shape[0] <= 1024):
        raise _Damaged("its weights have no action head (logits.weight)")
    expected, param_shapes = _network(
        config.core,
        config.hidden,
        config.channels,
        config.frame_stack,
        config.frame_size,
        head.shape[0],
    )
    _check_model(model, expected)
    counts = {k: _whole(payload[k], k, MAX_COUNT) for k in ("update", "frames") if k in payload}
    if counts.get("update", 0) > counts.get("frames", MAX_COUNT):  # an update is frames
        raise _Damaged(f"it counts more updates ({counts['update']:,}) than frames")
    if "optimizer" in payload:
        _check_adam(payload["optimizer"], param_shapes)
    if "rng" in payload:
        _check_rng(payload["rng"])
    if "evaluations" in payload:
        _check_evaluations(payload["evaluations"])
    if "elapsed_s" in payload:
        _real(payload["elapsed_s"], "elapsed_s", high=1e12)
    if "world_size" in payload:
        _whole(payload["world_size"], "world_size", 1 << 20, low=1)
    if "reward_normalizer" in payload:
        _check_reward_statistics(payload["reward_normalizer"])


def _check_reward_statistics(state: Any) -> None:
    """`rewards.ReturnNormalizer.state_dict()`: count, mean, var."""
    if not isinstance(state, dict):
        raise _Damaged(f"its reward statistics are not a dict: {_shown(state)}")
    for key, low in (("count", 0.0), ("mean", -math.inf), ("var", 0.0)):
        _real(state.get(key), f"reward statistic {key!r}", low=low)


@functools.lru_cache(maxsize=16)
def _network(
    core: str, hidden: int, channels: int, frame_stack: int, frame_size: int, n_actions: int
) -> tuple[dict[str, tuple[int, ...]], tuple[tuple[int, ...], ...]]:
    """The weights' names and shapes, and the parameters' shapes in the optimizer's order,
    of the network these settings build (built aside: the RNG streams stay as they were)."""
    shape = (frame_stack, frame_size, frame_size)
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        agent = RecurrentAgent(shape, n_actions, core=core, hidden=hidden, channels=channels)
    names = {k: tuple(v.shape) for k, v in agent.state_dict().items()}
    return names, tuple(tuple(p.shape) for p in agent.parameters())


def _check_model(model: dict[Any, Any], expected: dict[str, tuple[int, ...]]) -> None:
    unknown = [str(k)[:40] for k in model if k not in expected]
    absent = [k for k in expected if k not in model]
    if unknown or absent:
        what = f"no {', '.join(absent[:3])}" if absent else f"unknown {', '.join(unknown[:3])}"
        raise _Damaged(f"it does not fit its own network settings ({what})")
    for name, shape in expected.items():
        value = model[name]
        if isinstance(value, torch.Tensor) and tuple(value.shape) != shape:
            raise _Damaged(
                f"it does not fit its own network settings ({name} has shape "
                f"{tuple(value.shape)}, not {shape})"
            )
        _tensor(value, f"weight {name}", bound=MAX_WEIGHT)


def _tensor(
    value: Any, what: str, shape: tuple[int, ...] | None = None, bound: float = math.inf
) -> torch.Tensor:
    """`value` if it is a finite floating-point tensor (of `shape`, within ±bound)."""
    if not isinstance(value, torch.Tensor) or value.layout != torch.strided:
        raise _Damaged(f"its {what} is not a tensor")
    if not value.is_floating_point():
        raise _Damaged(f"its {what} is not floating point ({value.dtype})")
    if shape is not None and tuple(value.shape) != shape:
        raise _Damaged(f"its {what} has shape {tuple(value.shape)}, its network settings {shape}")
    if value.numel() and not bool(torch.isfinite(value).all()):
        raise _Damaged(f"its {what} is not finite")
    if value.numel() and float(value.abs().max()) > bound:
        raise _Damaged(f"its {what} is beyond ±{bound:g}")
    return value


def _whole(value: Any, what: str, high: int, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _Damaged(f"its {what} is not a whole number from {low} to {high:,}: {_shown(value)}")
    return value


def _real(value: Any, what: str, low: float = 0.0, high: float = math.inf) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise _Damaged(f"its {what} is not a number from {low:g} to {high:g}: {_shown(value)}")
    return float(value)


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, torch.Tensor) else f"a tensor {value.dtype}"
    return text if len(text) <= 40 else text[:37] + "..."


def _check_adam(state: Any, param_shapes: tuple[tuple[int, ...], ...]) -> None:
    """The optimizer state is what `torch.optim.Adam(agent.parameters()).state_dict()` gives
    for this network: one parameter group over every parameter, moments of their shapes."""
    if not isinstance(state, dict) or set(state) != {"state", "param_groups"}:
        raise _Damaged("its optimizer state is not Adam's")
    groups = state["param_groups"]
    if not (isinstance(groups, list) and len(groups) == 1 and isinstance(groups[0], dict)):
        raise _Damaged("its optimizer state has not one parameter group")
    group = groups[0]
    if group.get("params") != list(range(len(param_shapes))):
        raise _Damaged("its optimizer state is for another network")
    for key in ("lr", "eps", "weight_decay"):
        _real(group.get(key), f"optimizer {key}", high=1e6)
    betas = group.get("betas")
    if not (isinstance(betas, list | tuple) and len(betas) == 2):
        raise _Damaged("its optimizer betas are not two numbers")
    for beta in betas:
        _real(beta, "optimizer beta", high=0.999999)
    for key in _ADAM_FLAGS:
        if not isinstance(group.get(key, False), bool):
            raise _Damaged(f"its optimizer {key} is not true or false")
    if group.get("capturable") or group.get("differentiable"):
        raise _Damaged("its optimizer state is not one this package writes")
    for key in ("foreach", "fused"):
        if group.get(key) is not None and not isinstance(group[key], bool):
            raise _Damaged(f"its optimizer {key} is not true, false or none")
    moments = state["state"]
    if not isinstance(moments, dict):
        raise _Damaged("its optimizer moments are not a table")
    for index, entry in moments.items():
        if not (isinstance(index, int) and 0 <= index < len(param_shapes)):
            raise _Damaged(f"its optimizer has moments for no parameter ({_shown(index)})")
        if not isinstance(entry, dict):
            raise _Damaged(f"its optimizer moments of parameter {index} are not a table")
        step = entry.get("step")
        if isinstance(step, torch.Tensor):
            if step.numel() != 1:
                raise _Damaged(f"its optimizer step of parameter {index} is not one number")
            step = float(step.float())
        _real(step, f"optimizer step of parameter {index}", high=float(MAX_COUNT))
        names = ("exp_avg", "exp_avg_sq", *(("max_exp_avg_sq",) if group.get("amsgrad") else ()))
        for name in names:
            moment = _tensor(entry.get(name), f"optimizer {name}[{index}]", param_shapes[index])
            if name != "exp_avg" and moment.numel() and float(moment.min()) < 0:
                raise _Damaged(f"its optimizer {name}[{index}] is negative")


def _check_rng(state: Any) -> None:
    """The RNG states restore: each is tried on a generator of its own (torch's is put back)."""
    if not isinstance(state, dict) or not set(state) >= _RNG_LAYOUT:
        raise _Damaged("its RNG state is not torch, numpy and python's")
    try:
        keys, pos = state["numpy_keys"], state["numpy_pos"]
        if not isinstance(keys, torch.Tensor) or keys.dtype != torch.int64 or keys.dim() != 1:
            raise ValueError("numpy keys")
        if keys.numel() and (int(keys.min()) < 0 or int(keys.max()) >= 2**32):
            raise ValueError("numpy keys")
        if isinstance(pos, bool) or not isinstance(pos, int):
            raise ValueError("numpy position")
        generator = np.random.RandomState()
        generator.set_state(("MT19937", keys.numpy().astype(np.uint32), pos, 0, 0.0))
        version, internal, gauss = state["python"]
        if not isinstance(internal, list | tuple) or len(internal) > 1000:
            raise ValueError("python state")
        random.Random().setstate((version, tuple(internal), gauss))
        torch_state = state["torch"]
        if not isinstance(torch_state, torch.Tensor) or torch_state.dtype != torch.uint8:
            raise ValueError("torch state")
        now = torch.get_rng_state()
        try:
            torch.set_rng_state(torch_state)
        finally:
            torch.set_rng_state(now)
    except Exception:  # each library checks its own state; any complaint means damaged
        raise _Damaged("its RNG state does not restore") from None


def _check_evaluations(evaluations: Any) -> None:
    if not isinstance(evaluations, list):
        raise _Damaged("its evaluations are not a list")
    for e in evaluations:
        if not isinstance(e, dict):
            raise _Damaged("an evaluation in it is not a table")
        _whole(e.get("update"), "evaluation update", MAX_COUNT)
        _whole(e.get("frames"), "evaluation frames", MAX_COUNT)
        for key in ("mean", "median", "min", "max"):
            _real(e.get(key), f"evaluation {key}", low=-math.inf)


# --- config.json ---------------------------------------------------------------------------


def read_config(run_dir: Path) -> Config:
    """The run's config.json through the command line's table (`settle`), or RunFileError
    naming the file and what is wrong with it."""
    path = Path(run_dir) / "config.json"
    try:
        return settle(Config.from_dict(_read_json(path)))
    except ConfigError as e:
        raise RunFileError(f"{path} is unreadable: {e}") from None
    except _Damaged as e:
        raise RunFileError(f"{path} is unreadable: {e}") from None


def _read_json(path: Path) -> Any:
    """A small JSON file's value; _Damaged if it is missing, too large, not UTF-8 or not JSON."""
    try:
        if not path.is_file():
            raise _Damaged("it is missing")
        if path.stat().st_size > MAX_JSON_BYTES:
            raise _Damaged(f"it is larger than {MAX_JSON_BYTES:,} bytes")
        text = path.read_bytes().decode("utf-8")
    except OSError as e:
        raise _Damaged(e.strerror or str(e)) from None
    except UnicodeDecodeError:
        raise _Damaged("it is not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise _Damaged(f"it is not JSON ({e.msg} at line {e.lineno})") from None
    except (ValueError, RecursionError):  # a number of 5,000 digits, lists nested too deep
        raise _Damaged("it is not JSON this package writes") from None


# --- eval-*.json ---------------------------------------------------------------------------


def read_eval_record(path: Path) -> dict[str, Any]:
    """An evaluation record (eval-*.json) with its scores and statistics checked, or
    RunFileError naming the file and what is wrong with it."""
    path = Path(path)
    try:
        record = _read_json(path)
        _check_eval_record(record)
    except _Damaged as e:
        raise RunFileError(f"{path} is unreadable: {e}") from None
    return record


def read_eval_records(run_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    """The run's readable eval-*.json, oldest first (by time written, then name); a damaged
    one is skipped with a warning."""
    found = []
    for path in Path(run_dir).glob("eval-*.json"):
        try:
            record = read_eval_record(path)
            found.append(((path.stat().st_mtime, path.name), path, record))
        except (RunFileError, OSError) as e:
            warn(f"skipped {path.name}: {str(e).removeprefix(f'{path} ')}")
    return [(path, record) for _, path, record in sorted(found, key=lambda r: r[0])]


def _check_eval_record(record: Any) -> None:
    if not isinstance(record, dict):
        raise _Damaged(f"it holds a {type(record).__name__}, not an evaluation record")
    scores = record.get("scores")
    if not isinstance(scores, list) or not scores:
        raise _Damaged("its scores are not a list of game scores")
    for score in scores:
        _real(score, "score", low=-math.inf)
    if "games" in record and record["games"] != len(scores):
        raise _Damaged(f"it counts {_shown(record['games'])} games but holds {len(scores)} scores")
    for key in ("mean", "median", "min", "max"):
        _real(record.get(key), key, low=-math.inf)
    for key in ("update", "frames"):
        if record.get(key) is not None:
            _whole(record[key], key, MAX_COUNT)
    videos = record.get("videos", {})
    if not isinstance(videos, dict):
        raise _Damaged("its videos are not a table")
    for game, rel in videos.items():
        if not (isinstance(game, str) and game.isdigit() and int(game) < len(scores)):
            raise _Damaged(f"it has a video of no game ({_shown(game)})")
        if not isinstance(rel, str) or Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise _Damaged(f"its video of game {game} is not a path inside the run folder")
