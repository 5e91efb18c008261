"""The recurrent actor-critic network: the notebook's conv stack or the DQN/A2C/PPO papers',
then a dense layer, a memory core (LSTM, GRU or none) and the policy and value heads."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..config import CORES, FRAME_SIZES, INITS, INPUT_NORMS, NETWORKS, PRECISIONS
from .memory import MEMORY_TENSORS, Memory, reset_memory

_CONV_SIDE = FRAME_SIZES[0]  # 42
"""Side of the frame the convs see; a larger frame of n times this side is folded to it."""


def _as_float_obs(obs: torch.Tensor) -> torch.Tensor:
    """uint8 pixels in [0, 255] or float in [0, 1] -> float32 in [0, 1]."""
    if obs.dtype == torch.uint8:
        return obs.float() / 255.0
    return obs.float()


def standardise_frames(x: torch.Tensor, min_std: float = 1e-3) -> torch.Tensor:
    """Each frame to mean 0 and standard deviation 1 over its pixels: x [N, C, H, W] float.

    The deviation is taken as at least `min_std` (a quarter of one grey level in [0, 1]),
    so a flat frame comes out near zero rather than its rounding noise blown up.
    """
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    std = x.std(dim=(1, 2, 3), keepdim=True, correction=0)
    return (x - mean) / std.clamp_min(min_std)


def notebook_convs(in_channels: int, channels: int) -> nn.Sequential:
    """The notebook's stack: 3 × conv(channels, 3×3, stride 2) + ReLU, flattened.
    [N, in_channels, 42, 42] -> [N, channels · 4 · 4] (512 at 32 channels)."""
    layers: list[nn.Module] = []
    for c_in in (in_channels, channels, channels):
        layers += [nn.Conv2d(c_in, channels, kernel_size=3, stride=2), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers, nn.Flatten())


def nature_convs(in_channels: int) -> nn.Sequential:
    """The DQN/A2C/PPO papers' stack: conv 32 8×8/4, 64 4×4/2, 64 3×3/1, each + ReLU,
    flattened. [N, in_channels, 84, 84] -> [N, 64 · 7 · 7 = 3136] ([N, 64] from 42×42)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 32, kernel_size=8, stride=4),
        nn.ReLU(inplace=True),
        nn.Conv2d(32, 64, kernel_size=4, stride=2),
        nn.ReLU(inplace=True),
        nn.Conv2d(64, 64, kernel_size=3, stride=1),
        nn.ReLU(inplace=True),
        nn.Flatten(),
    )


class RecurrentAgent(nn.Module):
    """3 × conv(32, 3×3, stride 2) -> dense 128 -> LSTMCell(128) -> action logits, state value.

    A frame whose side is a multiple n ≥ 2 of 42 (`--frame-size 84`) is first folded: each
    n×n block of pixels becomes n² channels (`nn.PixelUnshuffle`), so that the convs see
    42×42 as ever and only the first one takes more channels. Its first layer then acts as a
    6×6, stride-4 filter over the 84×84 frame, much like the Nature DQN network's first
    (8×8, stride 4).

    `network="nature"` replaces the conv stack by the DQN/A2C/PPO papers' (`nature_convs`),
    which takes the frame as it is (no fold); with `hidden=512` and `core="none"` it is
    their whole network.
    With `core="gru"` a GRUCell replaces the LSTM; with `core="none"` the memory is left
    out: the policy sees one frame and remembers nothing.
    `init="orthogonal"` starts from orthogonal weights with a near-silent policy head;
    `input_norm="frame"` (the default, as `Config`'s) standardises each frame
    (`standardise_frames`) before the convs, `"none"` only divides pixels by 255.
    With `precision="bf16"` the conv stack computes in bfloat16 (autocast; the weights,
    the dense layer, the LSTM and the heads stay float32). On a CPU with native bf16 the
    replay's conv forward + backward ran 2.8× faster, the acting step 1.1× faster
    (docs/decisions.md).
    """

    def __init__(
        self,
        obs_shape: Sequence[int] = (1, 42, 42),
        n_actions: int = 14,
        *,
        core: str = "lstm",
        hidden: int = 128,
        channels: int = 32,
        precision: str = "fp32",
        init: str = "torch",
        input_norm: str = "frame",
        network: str = "notebook",
    ):
        super().__init__()
        if network not in NETWORKS:
            raise ValueError(f"network must be one of {NETWORKS}, got {network!r}")
        if core not in CORES:
            raise ValueError(f"core must be one of {CORES}, got {core!r}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        if input_norm not in INPUT_NORMS:
            raise ValueError(f"input_norm must be one of {INPUT_NORMS}, got {input_norm!r}")
        self.input_norm = input_norm
        self.precision = precision
        self.obs_shape = tuple(obs_shape)
        self.n_actions = n_actions
        self.core = core
        self.hidden = hidden
        self.network = network
        c, side = obs_shape[0], obs_shape[-1]
        fold = side // _CONV_SIDE if side % _CONV_SIDE == 0 and network == "notebook" else 1
        # [N, c, n·42, n·42] -> [N, c·n², 42, 42]; nothing for the notebook's 42×42
        self.fold = nn.PixelUnshuffle(fold) if fold > 1 else nn.Identity()
        if network == "nature":
            self.conv = nature_convs(c)
        else:
            self.conv = notebook_convs(c * fold * fold, channels)
        # channels-last convolutions: oneDNN runs the replay's forward and backward ~1.8×
        # faster on CPU than in the default layout (docs/decisions.md)
        self.conv.to(memory_format=torch.channels_last)
        with torch.no_grad():
            n_flat = self.encode_conv(torch.zeros(1, *obs_shape)).shape[1]  # [1, n_flat]
        self.hid = nn.Linear(n_flat, hidden)
        self.rnn: nn.Module | None = {
            "lstm": lambda: nn.LSTMCell(hidden, hidden),
            "gru": lambda: nn.GRUCell(hidden, hidden),
            "none": lambda: None,
        }[core]()
        self.logits = nn.Linear(hidden, n_actions)
        self.state_value = nn.Linear(hidden, 1)
        if init == "orthogonal":
            self._init_orthogonal()

    def _init_orthogonal(self) -> None:
        """Orthogonal weights and zero biases: gain √2 for the ReLU layers (conv, dense) and
        the memory, 0.01 for the policy head (a near-uniform first policy), 1 for the value."""
        relu_gain = nn.init.calculate_gain("relu")
        layers = [m for m in self.conv if isinstance(m, nn.Conv2d)] + [self.hid]
        heads = [(self.logits, 0.01), (self.state_value, 1.0)]
        for layer, gain in [(m, relu_gain) for m in layers] + heads:
            weight = torch.empty(layer.weight.shape)  # contiguous: the conv's is channels-last
            nn.init.orthogonal_(weight, gain)
            with torch.no_grad():
                layer.weight.copy_(weight)
            nn.init.zeros_(layer.bias)
        if self.rnn is not None:
            for name, p in self.rnn.named_parameters():
                if name.startswith("weight"):
                    nn.init.orthogonal_(p)
                else:
                    nn.init.zeros_(p)

    @property
    def device(self) -> torch.device:
        return self.logits.weight.device

    def get_initial_state(self, batch_size: int) -> Memory:
        """Memory at game start: zeros, each tensor [batch_size, hidden] ((h, c) for the LSTM)."""
        n = MEMORY_TENSORS[self.core]
        return tuple(torch.zeros(batch_size, self.hidden, device=self.device) for _ in range(n))

    def encode_conv(self, obs: torch.Tensor) -> torch.Tensor:
        """[N, C, H, W] pixels (uint8 or float) -> [N, n_flat] float32, the conv stack's output."""
        x = _as_float_obs(obs)
        if self.input_norm == "frame":
            x = standardise_frames(x)
        x = self.fold(x).contiguous(memory_format=torch.channels_last)
        if self.precision == "fp32":
            return self.conv(x)
        with torch.autocast(x.device.type, dtype=torch.bfloat16):
            return self.conv(x).float()

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        """[N, C, H, W] pixels (uint8 or float) -> [N, hidden] features."""
        return F.relu(self.hid(self.encode_conv(obs)))

    def _core(self, prev_state: Memory, x: torch.Tensor) -> tuple[Memory, torch.Tensor]:
        """One memory step: x [B, hidden] -> the new memory and the output [B, hidden]."""
        if self.core == "lstm":
            h, c = self.rnn(x, prev_state)
            return (h, c), h
        if self.core == "gru":
            h = self.rnn(x, prev_state[0])
            return (h,), h
        return prev_state, x

    def _heads(self, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """[..., hidden] -> logits [..., n_actions], value [...]."""
        return self.logits(out), self.state_value(out).squeeze(-1)

    def forward(
        self, prev_state: Memory, obs_t: torch.Tensor
    ) -> tuple[Memory, tuple[torch.Tensor, torch.Tensor]]:
        """One step for a batch of games.

        obs_t [B, C, H, W] -> new memory, (logits [B, n_actions], state value [B]).
        """
        new_state, out = self._core(prev_state, self.encode(obs_t))
        return new_state, self._heads(out)

    def unroll(
        self, obs: torch.Tensor, prev_state: Memory, is_not_done: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, Memory]:
        """Replay a rollout: the conv stack on all T×B frames at once, the memory step by step.

        obs [T, B, C, H, W]; is_not_done [T, B], 0 where a game ended at step t, so the
        memory is zeroed before step t + 1, exactly as the pool did while acting.
        Returns logits [T, B, n_actions], values [T, B] and the memory after step T - 1.
        """
        T, B = obs.shape[:2]
        x = self.encode(obs.reshape(T * B, *obs.shape[2:])).view(T, B, -1)  # [T, B, hidden]
        if self.rnn is None:
            logits, values = self._heads(x)
            return logits, values, prev_state
        state = prev_state
        outs = []
        for t in range(T):
            state, out = self._core(state, x[t])
            outs.append(out)
            state = reset_memory(state, is_not_done[t])
        logits, values = self._heads(torch.stack(outs))  # [T, B, A], [T, B]
        return logits, values, state

    # no_grad rather than inference_mode: the memory it returns is later the start of a
    # replay that keeps gradients, which inference tensors refuse.
    @torch.no_grad()
    def step(
        self, prev_state: Memory, obs_t: np.ndarray | torch.Tensor
    ) -> tuple[Memory, tuple[torch.Tensor, torch.Tensor]]:
        """Like forward, for acting: obs_t may be a numpy array; no gradients are kept."""
        obs = torch.as_tensor(np.asarray(obs_t), device=self.device)
        return self.forward(prev_state, obs)

    def sample_actions(self, agent_outputs: tuple[torch.Tensor, torch.Tensor]) -> np.ndarray:
        """Sample one action per game from the policy: logits [B, A] -> int64 [B]."""
        logits, _ = agent_outputs
        probs = F.softmax(logits.float(), dim=-1)
        return torch.multinomial(probs, 1)[:, 0].cpu().numpy().astype(np.int64)
