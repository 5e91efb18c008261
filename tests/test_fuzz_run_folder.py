"""Fuzz: every kind of file in a real run folder × every kind of damage × every command.

One small real run is trained (module fixture). Each case copies it, damages one kind of
file in one way, then runs `kungfu eval`, `report`, `plot` and `train --resume` in-process
(`kungfu_rl.cli.main`) and checks what the README promises (section "Bad input"):

- exit code 0, going on with one-line warnings, or 2 with one line `kungfu: error: ...`;
  never a traceback, never torch's advice to load with `weights_only=False`;
- no code run (a checkpoint that would create a file when unpickled never does);
- no file lost but by checkpoint rotation (an unreadable checkpoint is moved aside);
- a damaged file that a command reads is named in a warning;
- afterwards the run resumes wherever one good checkpoint was left, with no damaged
  metrics row carried forward and config.json readable again.

The cases are generated, not listed: the kinds are found in the run folder (a file kind
added later is fuzzed too, as a file never read back, unless it is classified below), and
each damage is a function of a file's format (bytes, JSON, CSV, a torch checkpoint).
"""

from __future__ import annotations

import io
import json
import math
import pickle
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from test_resume import FRAMES_PER_UPDATE, tiny

from kungfu_rl.cli import main
from kungfu_rl.runs.checkpoints import list_checkpoints, read_checkpoint, read_newest_checkpoint
from kungfu_rl.runs.errors import RunFileError
from kungfu_rl.runs.files import read_config, read_eval_record
from kungfu_rl.runs.metrics import _parse_rows
from kungfu_rl.training.launch import train

UPDATES = 6
ADVICE = "weights_only=False"

# --- the run folder and its kinds of file ----------------------------------------------------


@pytest.fixture(scope="module")
def base_run(tmp_path_factory) -> Path:
    """A real run: 6 updates of KungFuMaster, checkpoints at 2, 4, 6, best.pt, a final
    evaluation (its record and videos), metrics, TensorBoard events, report, plots."""
    runs = tmp_path_factory.mktemp("fuzz")
    config = tiny(
        runs,
        updates=UPDATES,
        eval_every=UPDATES,
        eval_games=1,
        checkpoint_every=2,
        keep_checkpoints=3,
        max_episode_frames=100,
        overlap=False,  # one emulator pool, not two halves: each resume starts faster
    )
    return train(config, progress=False).run_dir


def kind_of(rel: str) -> str:
    """The kind of a run folder's file (which reader reads it), by its path in the folder."""
    if rel.startswith("checkpoints/update-") or rel == "checkpoints/best.pt":
        return "checkpoint"
    if rel in ("config.json", "metrics.csv"):
        return rel
    if rel.startswith("eval-") and rel.endswith(".json"):
        return "eval record"
    return "never read back"  # report.html, plots, videos, TensorBoard events, .lock ...


FORMATS = {
    "checkpoint": "torch",
    "config.json": "json",
    "eval record": "json",
    "metrics.csv": "csv",
    "never read back": "bytes",
}


def files_of(run: Path) -> list[str]:
    return sorted(str(p.relative_to(run)) for p in run.rglob("*") if p.is_file())


def targets(run: Path) -> dict[str, list[str]]:
    """Which files each case damages: one file of each kind (of the checkpoints, the
    newest), every checkpoint at once (best.pt too), every file never read back at once."""
    by_kind: dict[str, list[str]] = {}
    for rel in files_of(run):
        by_kind.setdefault(kind_of(rel), []).append(rel)
    found = {
        kind: files if kind == "never read back" else files[-1:] for kind, files in by_kind.items()
    }
    found["checkpoint"] = [str(p.relative_to(run)) for p in list_checkpoints(run)][-1:]
    found["every checkpoint"] = by_kind["checkpoint"]
    return found


# --- damages: each a function of a file's format ----------------------------------------------


def byte_damages(rng: random.Random) -> dict[str, Callable[[bytes], bytes]]:
    return {
        "cut short": lambda b: b[: len(b) // 2],
        "empty": lambda b: b"",
        "random bytes": lambda b: rng.randbytes(max(len(b), 64)),
        "NUL bytes": lambda b: b"\0" * max(len(b), 64),
        "not UTF-8": lambda b: b[: len(b) // 2] + b"\xff\xfe\xc3(" + b[len(b) // 2 :],
    }


VALUE_DAMAGES = ("wrong type", "list", "missing key", "unknown key", "non-finite", "huge")


class Embedded:
    """A JSON document held as text inside another (a checkpoint's config)."""

    def __init__(self, value: Any):
        self.value = value


def children(node: Any) -> list[tuple[Any, Any]]:
    if isinstance(node, Embedded):
        return [("json", node.value)]
    if isinstance(node, dict):
        return list(node.items())
    if isinstance(node, list | tuple):
        return list(enumerate(node))[:4]  # the RNG's 625 numbers need not all be tried
    return []


def nodes(tree: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    found = [(path, tree)]
    for key, child in children(tree):
        found += nodes(child, (*path, key))
    return found


def replaced(tree: Any, path: tuple, make: Callable[[Any], Any]) -> Any:
    """`tree` with the node at `path` replaced by make(node)."""
    if not path:
        return make(tree)
    key, rest = path[0], path[1:]
    if isinstance(tree, Embedded):
        return Embedded(replaced(tree.value, rest, make))
    if isinstance(tree, dict):
        return {**tree, key: replaced(tree[key], rest, make)}
    items = list(tree)
    items[key] = replaced(items[key], rest, make)
    return tuple(items) if isinstance(tree, tuple) else items


def is_number(node: Any) -> bool:
    if isinstance(node, torch.Tensor):
        return node.is_floating_point() and node.numel() > 0
    return isinstance(node, int | float) and not isinstance(node, bool)


def element_set(t: torch.Tensor, value: float) -> torch.Tensor:
    t = t.clone()
    t.view(-1)[0] = value
    return t


def damage_value(tree: Any, damage: str, rng: random.Random) -> Any:
    """One damage of a decoded document (JSON or a checkpoint) at a node chosen by `rng`."""
    all_nodes = nodes(tree)
    dicts = [(p, n) for p, n in all_nodes if isinstance(n, dict)]
    if damage == "wrong type":
        path, _ = rng.choice(all_nodes[1:])
        return replaced(tree, path, lambda n: 7 if isinstance(n, str) else "seven")
    if damage == "list":
        path, _ = rng.choice(dicts)
        return replaced(tree, path, lambda n: list(n.values()))
    if damage == "unknown key":
        path, _ = rng.choice(dicts)
        return replaced(tree, path, lambda n: {**n, "surprise": [1, "two"]})
    if damage == "missing key":
        path, node = rng.choice([(p, n) for p, n in dicts if n])
        key = rng.choice(list(node))
        return replaced(tree, path, lambda n: {k: v for k, v in n.items() if k != key})
    numbers = [(p, n) for p, n in all_nodes if is_number(n)]
    path, _ = rng.choice(numbers)
    if damage == "non-finite":
        bad = rng.choice([math.nan, math.inf, -math.inf])
    else:  # huge
        bad = rng.choice([10**30, 1e308, -1e308, 3e38])

    def make(n: Any) -> Any:
        if isinstance(n, torch.Tensor):
            return element_set(n, bad if abs(bad) < 1e39 else 3e38)
        return bad

    return replaced(tree, path, make)


def decode_torch(data: bytes) -> Any:
    payload = torch.load(io.BytesIO(data), weights_only=True)
    payload["config"] = Embedded(json.loads(payload["config"]))
    return payload


def encode_torch(tree: Any) -> bytes:
    def plain(node: Any) -> Any:
        if isinstance(node, Embedded):
            return json.dumps(node.value)
        if isinstance(node, dict):
            return {k: plain(v) for k, v in node.items()}
        if isinstance(node, list | tuple):
            return type(node)(plain(v) for v in node)
        return node

    out = io.BytesIO()
    torch.save(plain(tree), out)
    return out.getvalue()


def damage_csv(data: bytes, damage: str, rng: random.Random) -> bytes:
    """A CSV document damaged in the way a JSON one is: a cell, a row, a column."""
    rows = [line.split(",") for line in data.decode().splitlines()]
    header, body = rows[0], rows[1:]
    r = rng.randrange(len(body))
    c = rng.randrange(len(header))
    if damage == "wrong type":
        body[r][c] = "seven"
    elif damage == "list":
        body[r] += ["1", "2", "3"]
    elif damage == "missing key":
        rows = [row[:c] + row[c + 1 :] for row in rows]
    elif damage == "unknown key":
        added = ["surprise"] + ["1"] * len(body)
        rows = [[*row, v] for row, v in zip(rows, added, strict=True)]
    elif damage == "non-finite":
        body[r][c] = rng.choice(["inf", "nan", "-inf", "NaN"])
    else:  # huge
        body[r][c] = rng.choice(["1e300", "1e999", "9" * 400])
    return "\n".join(",".join(row) for row in rows).encode() + b"\n"


class _Exploit:
    def __init__(self, target: str):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


# --- the cases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    target: str
    """A kind of file (or "every checkpoint", "run folder name")."""
    damage: str

    def __str__(self) -> str:
        return f"{self.target}: {self.damage}".replace(" ", "-")


def damages_for(target: str) -> list[str]:
    fmt = FORMATS.get(target, "torch")  # "every checkpoint": torch
    found = [d for d in byte_damages(random.Random()) if d != "not UTF-8" or fmt != "torch"]
    if fmt != "bytes" and target != "every checkpoint":
        found += VALUE_DAMAGES
    if fmt == "torch":
        found.append("code")
    if target in ("checkpoint", "eval record"):
        found.append("over-long name")
    return found


# The kinds the base run is known to hold; `test_the_cases_cover_every_file_of_a_run` checks
# that a real run holds no other (a new kind lands in "never read back" unless classified).
TARGETS = [*FORMATS, "every checkpoint"]
CASES = [Case(t, d) for t in TARGETS for d in damages_for(t)] + [
    Case("run folder name", "over-long name"),
    Case("run folder name", "mathematics and accents"),
]


def test_the_cases_cover_every_file_of_a_run(base_run):
    kinds = {kind_of(rel) for rel in files_of(base_run)}
    assert kinds == set(FORMATS), kinds  # every kind is there to be damaged
    assert len(targets(base_run)["every checkpoint"]) == 4  # update 2, 4, 6 and best.pt
    print(f"{len(CASES)} cases over {len(files_of(base_run))} files")


def apply(case: Case, run: Path, marker: Path) -> tuple[Path, list[Path]]:
    """Damage `run` as `case` says; the run folder (it may be renamed) and the files damaged."""
    rng = random.Random(str(case))
    if case.target == "run folder name":
        if case.damage == "over-long name":
            return run.parent / ("r" * 300), []
        renamed = run.parent / "y$\\frac{$ x_{1}^2 ü ∑"
        run.rename(renamed)
        return renamed, []
    damaged = [run / rel for rel in targets(run)[case.target]]
    for path in damaged:
        data = path.read_bytes()
        fmt = FORMATS.get(case.target, "torch")
        if case.damage in byte_damages(rng):
            data = byte_damages(rng)[case.damage](data)
        elif case.damage == "code":
            data = pickle.dumps({"model": _Exploit(str(marker)), "config": "{}"}, protocol=2)
        elif case.damage == "over-long name":  # an old file under a name it was never given
            stem = "update-" if case.target == "checkpoint" else "eval-"
            copy = path.with_name(stem + "9" * 240 + path.suffix)
            oldest = sorted(path.parent.glob(stem + "*" + path.suffix))[0]
            copy.write_bytes(oldest.read_bytes())
            damaged = [copy]
            continue
        elif fmt == "csv":
            data = damage_csv(data, case.damage, rng)
        elif fmt == "json":
            data = json.dumps(damage_value(json.loads(data), case.damage, rng)).encode()
        else:
            data = encode_torch(damage_value(decode_torch(data), case.damage, rng))
        path.write_bytes(data)
    return run, damaged


def readable(path: Path) -> bool:
    try:
        read_checkpoint(path, resumable=True)
    except ValueError:
        return False
    return True


def check_said(command: str, code: int, err: str) -> None:
    """Exit 0 (warnings, progress) or 2 with one line; never a traceback or torch's advice."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err and ADVICE not in err, (command, err)
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("kungfu: error: "), (command, err)
        return
    assert code == 0, (command, code, err)
    for line in lines:
        # a warning is one line: no continuation, no exception printed by Python
        assert not line[0].isspace() and not line.startswith("kungfu: error"), (command, err)
        assert "Error:" not in line.split(" ", 1)[0], (command, err)
        assert "Warning:" not in line.split(" ", 1)[0], (command, err)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_damaged_run_folder(case, base_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(base_run, run)
    marker = tmp_path / "code-ran"
    run, damaged = apply(case, run, marker)
    if case.target == "run folder name" and case.damage == "over-long name":
        for argv in (["eval", run], ["report", run], ["plot", run], ["train", "--resume", run]):
            code = main([str(a) for a in argv])
            out, err = capsys.readouterr()
            check_said(argv[0], code, err + out)
            assert code == 2, (argv, err)
        return
    before = {rel: (run / rel).read_bytes() for rel in files_of(run)}
    good = [p for p in list_checkpoints(run) if p not in damaged and readable(p)]
    unreadable = [p.name for p in damaged if p in list_checkpoints(run) and not readable(p)]
    warned = {  # what each damaged file, read by its reader, makes the commands warn of
        "config.json": ("report", "resume") if not config_reads(run) else (),
        "eval record": ("report",) if damaged and not record_reads(damaged[0]) else (),
        "metrics.csv": ("report", "plot") if run.is_dir() and rows_skipped(run) else (),
    }.get(case.target, ())

    best = run / "checkpoints" / "best.pt"
    commands = {
        "eval": ["eval", run, "--games", "1", "--device", "cpu"],
        **({"eval --best": ["eval", run, "--best", "--games", "1"]} if best in damaged else {}),
        "report": ["report", run],
        "plot": ["plot", run],
        "resume": [
            "train",
            "--resume",
            run,
            "--frames",
            (UPDATES + 1) * FRAMES_PER_UPDATE,
            "--keep-checkpoints",
            "1",
            "--eval-every",
            "0",
            "--no-progress",
        ],
    }
    said = {}
    for command, argv in commands.items():
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        check_said(command, code, err + out)
        said[command] = code, err

    assert not marker.exists()  # no code ran

    # a good checkpoint left: eval plays it, the run resumes; none: one line, exit 2
    assert said["eval"][0] == said["resume"][0] == (0 if good else 2), said
    assert said["report"][0] == 0, said["report"]
    if best in damaged:  # asked for by name, a damaged best.pt is one line, exit code 2
        assert said["eval --best"][0] == (0 if readable(best) else 2), said["eval --best"]
    for name in unreadable:  # named wherever a command passed over it
        for command in ("eval", "report", "resume") if good else ("report",):
            assert f"skipped {name}" in said[command][1], (command, said[command][1])
    for command in warned:  # in a warning, or in the one line of exit code 2
        assert damaged[0].name in said[command][1], (command, said[command][1])

    # no file lost but by rotation: an update-*.pt is deleted only if older than one kept,
    # and an unreadable one is moved to checkpoints/unreadable/ whole
    aside = {p.read_bytes() for p in (run / "checkpoints" / "unreadable").glob("*")}
    newest = read_newest_checkpoint(run)[1]["update"] if good else None
    for rel, data in before.items():
        if (run / rel).exists():
            continue
        assert rel.startswith("checkpoints/update-"), f"{rel} lost"
        if data not in aside:
            assert readable_bytes(data, tmp_path) < newest, f"{rel} lost"

    if good:  # resumed: one update more, nothing damaged carried forward
        assert newest == UPDATES + 1
        assert read_config(run).frames == (UPDATES + 1) * FRAMES_PER_UPDATE
        header, rows, skipped = _parse_rows(run / "metrics.csv")
        assert skipped == 0 and rows and rows[-1][header.index("update")] == UPDATES + 1


def config_reads(run: Path) -> bool:
    try:
        read_config(run)
    except RunFileError:
        return False
    return True


def record_reads(path: Path) -> bool:
    try:
        read_eval_record(path)
    except RunFileError:
        return False
    return True


def rows_skipped(run: Path) -> int:
    return _parse_rows(run / "metrics.csv")[2]


def readable_bytes(data: bytes, tmp_path: Path) -> int:
    """The update count a checkpoint's bytes hold (it must be readable)."""
    path = tmp_path / "probe.pt"
    path.write_bytes(data)
    return read_checkpoint(path, resumable=True)["update"]
