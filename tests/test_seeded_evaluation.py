"""Evaluations during training are seeded from the run's seed and the update, and leave the
training's random streams as they were: two runs with one seed stay equal through their
evaluations, and a run trains the same with or without them."""

import numpy as np
import pytest
import torch
from fakes import CountdownGame
from test_resume import tiny

import kungfu_rl.training.trainer as trainer_module
from kungfu_rl.runs.checkpoints import read_checkpoint
from kungfu_rl.runs.metrics import read_metrics
from kungfu_rl.training.evaluation import evaluation_seeds, share
from kungfu_rl.training.launch import train


@pytest.fixture
def countdown(monkeypatch):
    """The trainer plays CountdownGame (its pool and its evaluations) instead of an Atari
    game: games of random length, so an unseeded evaluation plays games of other lengths
    and draws another number of actions."""
    monkeypatch.setattr(trainer_module, "env_factory", lambda config: CountdownGame)


def run(tmp_path, name, **kw):
    """A tiny run, logged at every update: its metrics and its final weights."""
    config = tiny(tmp_path, run_name=name, updates=8, eval_games=3, **kw)
    result = train(config, progress=False)
    return read_metrics(result.run_dir / "metrics.csv"), result.agent.state_dict(), result


def same_weights(a, b) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def columns(metrics, prefix) -> np.ndarray:
    """The metrics columns whose names start with `prefix`, as one array in name order (NaN
    where a value was not measured: assert_array_equal takes NaN for equal to NaN)."""
    names = sorted(k for k in metrics if k.startswith(prefix))
    return np.array([metrics[k] for k in names], dtype=np.float64)


def test_two_runs_with_one_seed_stay_equal_through_their_evaluations(tmp_path, countdown):
    m_a, w_a, a = run(tmp_path, "a", eval_every=2)
    m_b, w_b, b = run(tmp_path, "b", eval_every=2)
    assert [e["update"] for e in a.evaluations] == [2, 4, 6, 8]
    # the evaluations themselves are the same games with the same actions...
    assert a.evaluations == b.evaluations
    # ...and so is everything after them: the losses, the training games, the weights, best.pt
    for prefix in ("loss/", "rollout/", "eval/"):
        np.testing.assert_array_equal(columns(m_a, prefix), columns(m_b, prefix))
    assert same_weights(w_a, w_b)
    best_a = read_checkpoint(a.run_dir / "checkpoints" / "best.pt")["model"]
    best_b = read_checkpoint(b.run_dir / "checkpoints" / "best.pt")["model"]
    assert same_weights(best_a, best_b)


def test_a_run_trains_the_same_with_or_without_evaluations(tmp_path, countdown):
    m_eval, w_eval, evaluated = run(tmp_path, "evaluated", eval_every=3)
    m_none, w_none, plain = run(tmp_path, "plain", eval_every=0)
    assert [e["update"] for e in evaluated.evaluations] == [3, 6, 8] and not plain.evaluations
    assert m_eval["update"] == m_none["update"] == list(map(float, range(1, 9)))
    np.testing.assert_array_equal(columns(m_eval, "loss/"), columns(m_none, "loss/"))
    np.testing.assert_array_equal(columns(m_eval, "rollout/"), columns(m_none, "rollout/"))
    assert same_weights(w_eval, w_none)


def test_each_evaluation_has_its_own_seeds_and_every_game_one_seed():
    assert evaluation_seeds(0, 2) == evaluation_seeds(0, 2)
    assert len({evaluation_seeds(s, u)[0] for s in (0, 1) for u in (2, 4, 6)}) == 6
    games, sampling = evaluation_seeds(0, 2, rank=0)
    assert evaluation_seeds(0, 2, rank=1)[0] == games  # game j has one seed on any rank
    assert evaluation_seeds(0, 2, rank=1)[1] != sampling  # each rank samples its own actions
    for n in range(7):
        for world in (1, 2, 3):
            shares = [share(n, r, world) for r in range(world)]
            assert [g for s in shares for g in s] == list(range(n))  # every game once, in order
            assert max(map(len, shares)) - min(map(len, shares)) <= 1
