"""A run folder records the code that trained it: config.json's "code", the git commit of
the package's own source (and whether it was dirty), null where it is not a checkout; and
under "sessions" where each sitting that trained it began."""

import json
import shutil
import subprocess

import pytest
from test_resume import FRAMES_PER_UPDATE, tiny

from benchmarks.runner import run_result
from kungfu_rl.runs.files import (
    code_history,
    read_config,
    resumed_at,
    session_history,
    write_config,
)
from kungfu_rl.runtime import versions
from kungfu_rl.training.launch import resume, train

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="no git on this machine")


def git(directory, *args) -> str:
    done = subprocess.run(["git", *args], cwd=directory, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def checkout(tmp_path, name="repo"):
    """A git repository holding a package folder, pkg/, committed clean."""
    repo = tmp_path / name
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "__init__.py").write_text("")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one")
    return repo


def recorded(run_dir) -> list[dict]:
    return json.loads((run_dir / "config.json").read_text())["code"]


@needs_git
def test_a_run_records_the_commit_of_the_package_it_ran(tmp_path):
    run_dir = train(tiny(tmp_path, updates=4), progress=False).run_dir
    [code] = recorded(run_dir)
    assert code["from_update"] == 0 and code["kungfu_rl"] == versions.__version__
    if (versions.PACKAGE_DIR / ".." / ".." / ".git").exists():  # these tests, in a checkout
        assert code["git_commit"] == git(versions.PACKAGE_DIR, "rev-parse", "HEAD")
        assert isinstance(code["git_dirty"], bool)
    read_config(run_dir)  # the settings read as ever
    assert resumed_at(run_dir) == []
    resume(run_dir, {"frames": 6 * FRAMES_PER_UPDATE}, progress=False)
    written = json.loads((run_dir / "config.json").read_text())
    assert written["sessions"] == [
        {"from_update": 0, "from_frames": 0},
        {"from_update": 4, "from_frames": 4 * FRAMES_PER_UPDATE},
    ]
    assert resumed_at(run_dir) == [4 * FRAMES_PER_UPDATE]
    record = {"frames": 6 * FRAMES_PER_UPDATE, "mean": 0.0, "median": 0.0, "min": 0.0}
    record |= {"max": 0.0, "scores": [0.0], "seed": 0}
    assert run_result(run_dir, record)["resumed_at_frames"] == [4 * FRAMES_PER_UPDATE]
    again = recorded(run_dir)
    if code["git_dirty"] is False:
        assert again == [code]  # the same clean commit: one stretch
    else:
        assert [e["from_update"] for e in again] == [0, 4]  # dirty code may have changed


@needs_git
def test_the_commit_and_whether_the_package_is_dirty(tmp_path, monkeypatch):
    repo = checkout(tmp_path)
    head = git(repo, "rev-parse", "HEAD")
    monkeypatch.setenv("GIT_DIR", str(checkout(tmp_path, "other") / ".git"))  # ignored
    assert versions.source_commit(repo / "pkg") == {"git_commit": head, "git_dirty": False}
    (repo / "elsewhere.txt").write_text("outside the package: not its code\n")
    versions.source_commit.cache_clear()
    assert versions.source_commit(repo / "pkg")["git_dirty"] is False
    for change in ("new.py", "__init__.py"):  # a file added, a file changed
        (repo / "pkg" / change).write_text("x = 1\n")
        versions.source_commit.cache_clear()
        assert versions.source_commit(repo / "pkg") == {"git_commit": head, "git_dirty": True}
        (repo / "pkg" / "new.py").unlink(missing_ok=True)
    versions.source_commit.cache_clear()


@needs_git
def test_no_checkout_gives_nulls_and_never_an_error(tmp_path, monkeypatch):
    nulls = {"git_commit": None, "git_dirty": None}
    alone = tmp_path / "installed" / "pkg"
    alone.mkdir(parents=True)
    (alone / "__init__.py").write_text("")
    assert versions.source_commit(alone) == nulls
    # a copy inside someone else's checkout (a virtual env in a project, say) is not theirs
    repo = checkout(tmp_path)
    (repo / "venv" / "pkg").mkdir(parents=True)
    (repo / "venv" / "pkg" / "__init__.py").write_text("")
    assert versions.source_commit(repo / "venv" / "pkg") == nulls
    # a repository with no commit yet, and no git at all
    fresh = tmp_path / "fresh"
    (fresh / "pkg").mkdir(parents=True)
    (fresh / "pkg" / "__init__.py").write_text("")
    git(fresh, "init", "-q")
    git(fresh, "add", ".")
    assert versions.source_commit(fresh / "pkg") == nulls
    versions.source_commit.cache_clear()
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    assert versions.source_commit(repo / "pkg") == nulls
    versions.source_commit.cache_clear()


def test_the_history_keeps_one_entry_per_stretch_of_code(tmp_path, monkeypatch):
    a = {"kungfu_rl": "0.1.0", "git_commit": "a" * 40, "git_dirty": False}
    b = {**a, "git_commit": "b" * 40}
    dirty = {**b, "git_dirty": True}
    unknown = {**a, "git_commit": None, "git_dirty": None}
    assert code_history([], a, 0) == [{"from_update": 0, **a}]
    one = code_history([], a, 0)
    assert code_history(one, a, 8) == one  # resumed with the same clean commit
    two = code_history(one, b, 8)
    assert two == [{"from_update": 0, **a}, {"from_update": 8, **b}]
    assert code_history(two, b, 8) == two  # written twice by one session: once
    # resumed from update 4: what trained past it is gone, and so is its code's entry
    assert code_history(two, dirty, 4) == [{"from_update": 0, **a}, {"from_update": 4, **dirty}]
    assert code_history(one, unknown, 8)[-1] == {"from_update": 8, **unknown}

    config = tiny(tmp_path)
    monkeypatch.setattr("kungfu_rl.runs.files.code_version", lambda: a)
    write_config(tmp_path, config)
    monkeypatch.setattr("kungfu_rl.runs.files.code_version", lambda: b)
    write_config(tmp_path, config, update=8)
    assert [e["git_commit"] for e in recorded(tmp_path)] == ["a" * 40, "b" * 40]
    # a damaged record, or a damaged config.json, starts the history anew
    text = (tmp_path / "config.json").read_text().replace('"from_update": 0', '"from_update": "0"')
    (tmp_path / "config.json").write_text(text)
    write_config(tmp_path, config, update=12)
    assert [e["from_update"] for e in recorded(tmp_path)] == [8]
    (tmp_path / "config.json").write_bytes(b"\xff not json")
    write_config(tmp_path, config, update=12)
    assert recorded(tmp_path) == [{"from_update": 12, **b}]


def _resumed_at(tmp_path, config_json) -> list[int]:
    """`resumed_at` of a run folder whose config.json holds `config_json`."""
    (tmp_path / "config.json").write_text(json.dumps(config_json))
    return resumed_at(tmp_path)


def test_the_sessions_keep_one_entry_per_sitting_that_still_counts(tmp_path):
    one = session_history([], 0, 0)
    assert one == [{"from_update": 0, "from_frames": 0}]
    two = session_history(one, 8, 800)
    assert session_history(two, 8, 800) == two  # written twice by one sitting: once
    assert session_history(two, 4, 400) == [*one, {"from_update": 4, "from_frames": 400}]
    assert session_history([], 8, 800) == two  # no record: the sittings before count as one
    sessions = [*two, {"from_update": 9, "from_frames": "x"}]
    assert _resumed_at(tmp_path, {"sessions": sessions}) == [800]
    for damaged in ({}, {"sessions": "x"}, {"sessions": [1, {"from_update": True}]}):
        assert _resumed_at(tmp_path, damaged) == []
    (tmp_path / "config.json").write_bytes(b"\xff not json")
    assert resumed_at(tmp_path) == []
