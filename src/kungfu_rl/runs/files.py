"""A run folder's small files: config.json (the settings, the code that trained the run and
where each sitting began) and the evaluation records, each read through a validating reader;
`settle`, the one check every config passes; `set_aside` for a file that cannot be read."""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from ..config import Config, ConfigError
from ..envs.games import resolve_game
from ..runtime.versions import code_version
from .checks import MAX_COUNT, Damaged, real, shown, whole
from .errors import RunFileError

UNREADABLE_DIR = "unreadable"
"""Where a writer moves a file it cannot read (checkpoints/unreadable/, unreadable/)."""
CODE_FIELDS = ("kungfu_rl", "git_commit", "git_dirty")
"""What config.json's "code" entries say of the code (`runtime.versions.code_version`)."""
MAX_JSON_BYTES = 1 << 20
"""config.json and the eval records are a few kB; a larger one is not this package's."""


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


# --- config.json ---------------------------------------------------------------------------


def read_config(run_dir: Path) -> Config:
    """The run's config.json through the command line's table (`settle`), or RunFileError
    naming the file and what is wrong with it."""
    path = Path(run_dir) / "config.json"
    try:
        return settle(Config.from_dict(_read_json(path)))
    except ConfigError as e:
        raise RunFileError(f"{path} is unreadable: {e}") from None
    except Damaged as e:
        raise RunFileError(f"{path} is unreadable: {e}") from None


def write_config(run_dir: Path, config: Config, update: int = 0, frames: int = 0) -> None:
    """run_dir/config.json, atomically (a temporary file renamed over it): every setting,
    under "code" the code that trained the run, as `code_history` keeps it, and under
    "sessions" where each sitting that trained it began, as `session_history` keeps them,
    for a session that trains from `update` (`frames` frames, all ranks) on."""
    path = Path(run_dir) / "config.json"
    data = json.loads(config.to_json())
    recorded = _recorded(path)
    data["code"] = code_history(_whole(recorded.get("code"), CODE_FIELDS), code_version(), update)
    data["sessions"] = session_history(
        _whole(recorded.get("sessions"), ("from_frames",)), update, frames
    )
    tmp = path.with_name(".config.json.tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def code_history(
    recorded: list[dict[str, Any]], code: dict[str, Any], update: int
) -> list[dict[str, Any]]:
    """The code that trained a run, one entry per stretch of updates: {"from_update": N,
    "kungfu_rl": version, "git_commit": hash or None, "git_dirty": bool or None}. A session
    that trains from `update` on drops the entries from `update` on (the updates they
    trained past the checkpoint it resumes from are gone) and adds its own unless the code
    is the last entry's, at a commit and clean."""
    kept = [e for e in recorded if e["from_update"] < update]
    same = kept and all(kept[-1][k] == code[k] for k in CODE_FIELDS)
    if same and code["git_commit"] and code["git_dirty"] is False:
        return kept
    return [*kept, {"from_update": update, **{k: code[k] for k in CODE_FIELDS}}]


def session_history(
    recorded: list[dict[str, Any]], update: int, frames: int
) -> list[dict[str, Any]]:
    """Where each sitting that trained a run began, {"from_update": N, "from_frames": F},
    the first at 0 and one more for each resume. A session that trains from `update` on
    drops the entries from `update` on (what they trained past its checkpoint is gone) and
    adds its own, once however often it writes. A resume that finds no record (a config.json
    rebuilt from a checkpoint, or written before runs kept one) counts the sittings before
    it as one, from 0."""
    kept = [e for e in recorded if e["from_update"] < update]
    if not kept and update > 0:
        kept = [{"from_update": 0, "from_frames": 0}]
    return [*kept, {"from_update": update, "from_frames": frames}]


def resumed_at(run_dir: Path) -> list[int]:
    """The frames at which the run's config.json says it was resumed (none for a run
    trained in one sitting, or one whose file is damaged or predates the record)."""
    sessions = _whole(_recorded(Path(run_dir) / "config.json").get("sessions"), ("from_frames",))
    return [e["from_frames"] for e in sessions[1:] if isinstance(e["from_frames"], int)]


def _recorded(path: Path) -> dict[str, Any]:
    """config.json as it stands, or {} where it is missing or damaged (a run that starts, or
    a config.json rebuilt from a checkpoint)."""
    try:
        data = _read_json(path)
    except Damaged:
        return {}
    return data if isinstance(data, dict) else {}


def _whole(entries: Any, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    """The entries of a config.json list ("code", "sessions") that are whole: each an
    object with an integer "from_update" and every one of `fields`."""
    if not isinstance(entries, list):
        return []
    return [
        e
        for e in entries
        if isinstance(e, dict)
        and isinstance(e.get("from_update"), int)
        and not isinstance(e["from_update"], bool)
        and all(k in e for k in fields)
    ]


def _read_json(path: Path) -> Any:
    """A small JSON file's value; Damaged if it is missing, too large, not UTF-8 or not JSON."""
    try:
        if not path.is_file():
            raise Damaged("it is missing")
        if path.stat().st_size > MAX_JSON_BYTES:
            raise Damaged(f"it is larger than {MAX_JSON_BYTES:,} bytes")
        text = path.read_bytes().decode("utf-8")
    except OSError as e:
        raise Damaged(e.strerror or str(e)) from None
    except UnicodeDecodeError:
        raise Damaged("it is not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise Damaged(f"it is not JSON ({e.msg} at line {e.lineno})") from None
    except (ValueError, RecursionError):  # a number of 5,000 digits, lists nested too deep
        raise Damaged("it is not JSON this package writes") from None


# --- eval-*.json ---------------------------------------------------------------------------


def read_eval_record(path: Path) -> dict[str, Any]:
    """An evaluation record (eval-*.json) with its scores and statistics checked, or
    RunFileError naming the file and what is wrong with it."""
    path = Path(path)
    try:
        record = _read_json(path)
        _check_eval_record(record)
    except Damaged as e:
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
        raise Damaged(f"it holds a {type(record).__name__}, not an evaluation record")
    scores = record.get("scores")
    if not isinstance(scores, list) or not scores:
        raise Damaged("its scores are not a list of game scores")
    for score in scores:
        real(score, "score", low=-math.inf)
    if "games" in record and record["games"] != len(scores):
        raise Damaged(f"it counts {shown(record['games'])} games but holds {len(scores)} scores")
    for key in ("mean", "median", "min", "max"):
        real(record.get(key), key, low=-math.inf)
    for key in ("update", "frames"):
        if record.get(key) is not None:
            whole(record[key], key, MAX_COUNT)
    videos = record.get("videos", {})
    if not isinstance(videos, dict):
        raise Damaged("its videos are not a table")
    for game, rel in videos.items():
        if not (isinstance(game, str) and game.isdigit() and int(game) < len(scores)):
            raise Damaged(f"it has a video of no game ({shown(game)})")
        if not isinstance(rel, str) or Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise Damaged(f"its video of game {game} is not a path inside the run folder")
