"""The network's starting weights: PyTorch's defaults, or `--init orthogonal`."""

import pytest
import torch

from kungfu_rl.agent import RecurrentAgent
from kungfu_rl.config import Config
from kungfu_rl.loading import build_agent


def rows_orthogonal(weight: torch.Tensor, gain: float) -> bool:
    """W W^T = gain² I for a matrix with no more rows than columns (each conv filter a row)."""
    w = weight.detach().flatten(1)
    return torch.allclose(w @ w.T, gain**2 * torch.eye(w.shape[0]), atol=1e-4)


@pytest.mark.parametrize("core", ["lstm", "gru", "none"])
def test_orthogonal_init_gives_orthogonal_layers_small_policy_and_zero_biases(core):
    torch.manual_seed(0)
    agent = RecurrentAgent((1, 42, 42), 14, core=core, hidden=32, channels=8, init="orthogonal")
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

    # the first policy is uniform to within a small fraction, whatever the frame
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
