"""The CleanRL runner's adaptations and curve, without CleanRL (no network, no envpool)."""

import importlib.util
import sys
from pathlib import Path

import pytest

PEERS = Path(__file__).resolve().parent.parent / "benchmarks" / "peers"


def _load(name: str):
    sys.path.insert(0, str(PEERS))
    try:
        spec = importlib.util.spec_from_file_location(name, PEERS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(PEERS))


adapt_cleanrl = _load("adapt_cleanrl")
cleanrl = _load("cleanrl")


def _script_with_every_pattern() -> str:
    return "\n# ...\n".join(old for old, _ in adapt_cleanrl.REPLACEMENTS)


def test_adapt_makes_every_replacement_once():
    out = adapt_cleanrl.adapt(_script_with_every_pattern())
    for _, new in adapt_cleanrl.REPLACEMENTS:
        if new:
            assert new in out
    assert "import gymnasium as gym\n" in out
    assert "super().step(action)" not in out


@pytest.mark.parametrize("i", range(len(adapt_cleanrl.REPLACEMENTS)))
def test_adapt_refuses_a_script_that_lacks_one_pattern(i):
    parts = [old for j, (old, _) in enumerate(adapt_cleanrl.REPLACEMENTS) if j != i]
    with pytest.raises(SystemExit, match="expected one"):
        adapt_cleanrl.adapt("\n# ...\n".join(parts))


def test_adapt_refuses_a_pattern_found_twice():
    text = _script_with_every_pattern() + "\n" + adapt_cleanrl.REPLACEMENTS[0][0]
    with pytest.raises(SystemExit, match="found 2"):
        adapt_cleanrl.adapt(text)


def test_curve_is_the_mean_of_the_last_hundred_games_at_each_mark(tmp_path):
    csv = tmp_path / "c.csv"
    rows = [(1000 * (i + 1), float(i)) for i in range(250)]  # game i ends at 1000(i+1) frames
    csv.write_text("frames,score\n" + "".join(f"{f},{s}\n" for f, s in rows))
    games = cleanrl.read_curve(csv)
    assert games == rows
    curve = cleanrl.summarise(games, every=100_000)
    assert [p["frames"] for p in curve] == [100_000, 200_000, 300_000]
    assert curve[0]["mean"] == pytest.approx(sum(range(100)) / 100)  # games 0..99
    assert curve[1]["mean"] == pytest.approx(sum(range(100, 200)) / 100)
    assert curve[2]["mean"] == pytest.approx(sum(range(150, 250)) / 100)  # the last 100
