"""The network's options: its starting weights (`--init`) and what it does to the pixels
(`--input-norm`)."""

import inspect

import pytest
import torch

from kungfu_rl import config
from kungfu_rl.agent.networks import RecurrentAgent, standardise_frames
from kungfu_rl.config import Config
from kungfu_rl.runs.loading import build_agent


def rows_orthogonal(weight: torch.Tensor, gain: float) -> bool:
    """W W^T = gain² I for a matrix with no more rows than columns (each conv filter a row)."""
    w = weight.detach().flatten(1)
    return torch.allclose(w @ w.T, gain**2 * torch.eye(w.shape[0]), atol=1e-4)


@pytest.mark.parametrize("core", ["lstm", "gru", "none"])
def test_orthogonal_init_gives_orthogonal_layers_small_policy_and_zero_biases(core):
    torch.manual_seed(0)
    agent = RecurrentAgent(
        (1, 42, 42), 14, core=core, hidden=32, channels=8, init="orthogonal", input_norm="none"
    )
    relu_gain = 2**0.5
    for conv in (m for m in agent.conv if isinstance(m, torch.nn.Conv2d)):
        assert rows_orthogonal(conv.weight, relu_gain)  # 8 filters of 9 or 72 weights
        assert conv.weight.is_contiguous(memory_format=torch.channels_last)  # layout kept
    # the dense layer: 32 rows of 8·4·4 = 128 weights
    assert rows_orthogonal(agent.hid.weight, relu_gain)
    assert rows_orthogonal(agent.logits.weight, 0.01)
    assert rows_orthogonal(agent.state_value.weight, 1.0)
    biases = [agent.hid.bias, agent.logits.bias, agent.state_value.bias]
    biases += [m.bias for m in agent.conv if isinstance(m, torch.nn.Conv2d)]
    if agent.rnn is not None:
        biases += [p for name, p in agent.rnn.named_parameters() if name.startswith("bias")]
        w_hh = agent.rnn.weight_hh  # [k·hidden, hidden]: its columns orthonormal
        assert torch.allclose(w_hh.T @ w_hh, torch.eye(32), atol=1e-4)
    assert all(torch.count_nonzero(b) == 0 for b in biases)

    # the first policy is uniform to within a small fraction, whatever the frame (in [0, 1]:
    # the bound is for the notebook's pixels ÷ 255; standardised frames are larger inputs)
    _, (logits, _) = agent.step(agent.get_initial_state(4), torch.rand(4, 1, 42, 42))
    probs = torch.softmax(logits, -1)
    assert (probs - 1 / 14).abs().max() < 1e-3


def test_torch_init_is_pytorchs_default_and_not_orthogonal():
    torch.manual_seed(0)
    agent = RecurrentAgent((1, 42, 42), 14, hidden=32, channels=8)
    assert not rows_orthogonal(agent.logits.weight, 0.01)
    assert torch.count_nonzero(agent.logits.bias) > 0  # PyTorch starts biases uniform, not 0


def test_unknown_init_is_refused():
    with pytest.raises(ValueError, match="init must be one of"):
        RecurrentAgent(init="xavier")


def test_the_runs_init_setting_reaches_the_network():
    built = build_agent(
        Config(hidden=16, channels=8, init="orthogonal"), (1, 42, 42), 6, torch.device("cpu")
    )
    assert rows_orthogonal(built.logits.weight, 0.01)
    assert Config.from_dict({}).init == "torch"  # a config.json from before the setting


def test_standardise_frames_gives_each_frame_mean_0_and_deviation_1():
    frames = torch.rand(5, 1, 42, 42) * torch.arange(1, 6).view(5, 1, 1, 1)  # 5 contrasts
    frames[4] = 0.34  # a flat frame: no deviation to divide by
    out = standardise_frames(frames)
    assert torch.allclose(out[:4].mean(dim=(1, 2, 3)), torch.zeros(4), atol=1e-5)
    assert torch.allclose(out[:4].std(dim=(1, 2, 3), correction=0), torch.ones(4), atol=1e-3)
    assert out[4].abs().max() < 1e-4  # near zero: rounding noise not blown up
    # each frame on its own: a frame's output does not depend on the others in the batch
    assert torch.allclose(standardise_frames(frames[1:2]), out[1:2])


def test_frame_norm_lifts_a_one_pixel_ball_off_a_flat_background():
    """Pong-like: a 0.34 background with one 0.55 pixel. Divided by 255 only, the pixel
    stands 0.21 above the rest; standardised, about 41 deviations (√(42·42))."""
    frame = torch.full((1, 1, 42, 42), 0.34)
    frame[0, 0, 20, 30] = 0.55
    out = standardise_frames(frame)
    assert out[0, 0, 20, 30] - out[0, 0, 0, 0] > 40


@pytest.mark.parametrize("norm", ["none", "frame"])
def test_input_norm_is_used_alike_by_acting_and_the_replay(norm):
    """step (acting) and unroll (the update's replay) see the same pixels the same way."""
    torch.manual_seed(0)
    agent = RecurrentAgent((1, 42, 42), 6, hidden=16, channels=8, input_norm=norm)
    obs = (torch.rand(3, 2, 1, 42, 42) * 255).to(torch.uint8)  # [T, B, C, H, W]
    state = agent.get_initial_state(2)
    stepped = []
    for t in range(3):
        state, (logits, _) = agent.step(state, obs[t])
        stepped.append(logits)
    replayed, _, _ = agent.unroll(obs, agent.get_initial_state(2), torch.ones(3, 2))
    assert torch.allclose(torch.stack(stepped), replayed, atol=1e-5)
    plain = RecurrentAgent((1, 42, 42), 6, hidden=16, channels=8, input_norm="none")
    plain.load_state_dict(agent.state_dict())  # same weights; only the input differs
    _, (other, _) = plain.step(plain.get_initial_state(2), obs[0])
    assert torch.allclose(other, stepped[0]) == (norm == "none")


def test_the_runs_input_norm_reaches_the_network_and_bad_values_are_refused():
    built = build_agent(
        Config(hidden=16, channels=8, input_norm="frame"), (1, 42, 42), 6, torch.device("cpu")
    )
    assert built.input_norm == "frame"
    assert Config.from_dict({}).input_norm == "none"
    with pytest.raises(ValueError, match="input_norm must be one of"):
        RecurrentAgent(input_norm="batch")


def test_an_84_frame_is_folded_2x2_into_channels_before_the_convs():
    torch.manual_seed(0)
    agent = RecurrentAgent((2, 84, 84), 4, hidden=16, channels=8, input_norm="none")
    frames = torch.randint(0, 256, (3, 2, 84, 84), dtype=torch.uint8)
    frames[0, 0, 10, 10], frames[0, 0, 11, 11] = 255, 0  # one 2×2 block: bright top left
    # pixel (2i + a, 2j + b) of frame c is channel 4c + 2a + b at (i, j), written by hand
    by_hand = frames.float().div(255).view(3, 2, 42, 2, 42, 2).permute(0, 1, 3, 5, 2, 4)
    by_hand = by_hand.reshape(3, 8, 42, 42).contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(agent.encode_conv(frames), agent.conv(by_hand))
    # so a detail inside one 2×2 block, which a 42×42 frame averages away, changes the features
    moved = frames.clone()
    moved[0, 0, 10, 10], moved[0, 0, 11, 11] = 0, 255  # bright bottom right: the same mean
    assert not torch.equal(agent.encode_conv(moved)[0], agent.encode_conv(frames)[0])


def test_the_network_built_bare_is_the_one_kungfu_train_builds():
    """RecurrentAgent's keyword defaults are Config's: the notebook's `RecurrentAgent(shape,
    n)` is the network `kungfu train` trains (input_norm frame since row 20 became default)."""
    params = inspect.signature(RecurrentAgent.__init__).parameters
    shared = ("core", "hidden", "channels", "init", "input_norm")
    assert {k: params[k].default for k in shared} == {k: getattr(Config(), k) for k in shared}
    assert RecurrentAgent().input_norm == "frame"


@pytest.mark.parametrize("key", ["init", "input_norm", "reward_mode", "resize", "frame_size"])
def test_a_config_json_without_a_later_setting_reads_as_the_run_was(key, monkeypatch):
    """A config.json from before `key` existed is read with the value runs had then, even
    where today's default differs (here made to differ by changing the record)."""
    choices = {
        "init": "orthogonal",
        "input_norm": "none",
        "reward_mode": "clip",
        "resize": "max",
        "frame_size": 84,
    }
    assert all(choices[k] != getattr(Config(), k) for k in choices)  # each differs from today's
    monkeypatch.setitem(config.SETTINGS_ADDED, key, choices[key])
    assert getattr(Config.from_dict({}), key) == choices[key]
    default = getattr(Config(), key)
    assert getattr(Config.from_dict({key: default}), key) == default  # named: kept as named
