"""The agent shipped inside the package: it loads into today's network, and it plays."""

import json

import pytest
import torch

from kungfu_rl import evaluate, load_agent
from kungfu_rl.config import Config
from kungfu_rl.runs.loading import PRETRAINED_FILE, env_factory


def test_packaged_weights_are_small_and_plain():
    assert PRETRAINED_FILE.stat().st_size < 2_000_000
    payload = torch.load(PRETRAINED_FILE, map_location="cpu", weights_only=True)
    assert set(payload) == {"model", "config", "update", "frames"}  # no optimizer, no RNG


def test_packaged_config_builds_the_current_network():
    """Fails when the network changes under the weights: then ship new ones (tools/)."""
    loaded = load_agent("pretrained")
    assert loaded.path == PRETRAINED_FILE
    assert not loaded.agent.training
    # load_agent loads strictly: every tensor of today's network, no more, no fewer
    assert set(loaded.agent.state_dict()) == set(loaded.payload["model"])
    assert loaded.config.core in ("lstm", "gru", "none")
    # settings without weights of their own must reach the network too (the input scaling)
    assert loaded.agent.input_norm == loaded.config.input_norm


def test_the_json_beside_it_says_how_it_was_made():
    record = json.loads(PRETRAINED_FILE.with_suffix(".json").read_text())
    for key in ("command", "trained_by", "commit", "frames", "evaluation", "versions"):
        assert key in record, key
    e = record["evaluation"]
    assert e["games"] == len(e["scores"]) == 20
    assert e["min"] <= e["median"] <= e["max"] and e["mean"] == pytest.approx(sum(e["scores"]) / 20)
    assert record["frames"] == torch.load(PRETRAINED_FILE, weights_only=True)["frames"]
    assert Config.from_dict(record["config"]).validate()


@pytest.mark.slow
def test_the_packaged_agent_plays_at_the_course_bar():
    """3 full games, fixed seed: a mean of at least 10,000 (the course's bar)."""
    loaded = load_agent()
    torch.manual_seed(0)
    scores = evaluate(loaded.agent, env_factory(loaded.config)(), 3, seed=12345)
    assert sum(scores) / 3 >= 10_000, scores
