"""The notebook's recurrent actor-critic network, and its feedforward twin for the ablation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

MemoryState = tuple[torch.Tensor, torch.Tensor]
"""(h, c), each [B, hidden]; [B, 0] for the feedforward core, which remembers nothing."""

CORES = ("lstm", "none")
PRECISIONS = ("fp32", "bf16")
"""Arithmetic of the conv stack: float32, or bfloat16 under autocast (weights stay float32)."""


def _as_float_obs(obs: torch.Tensor) -> torch.Tensor:
    """uint8 pixels in [0, 255] or float in [0, 1] -> float32 in [0, 1]."""
    if obs.dtype == torch.uint8:
        return obs.float() / 255.0
    return obs.float()


class RecurrentAgent(nn.Module):
    """3 × conv(32, 3×3, stride 2) -> dense 128 -> LSTMCell(128) -> action logits, state value.

    With `core="none"` the LSTM is left out: the policy sees one frame and has no memory.
    With `precision="bf16"` the conv stack computes in bfloat16 (autocast; the weights,
    the dense layer, the LSTM and the heads stay float32). On a CPU with native bf16 the
    replay's conv forward + backward ran 2.8× faster, the acting step 1.1× faster
    (benchmarks/precision.py).
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
    ):
        super().__init__()
        if core not in CORES:
            raise ValueError(f"core must be one of {CORES}, got {core!r}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        self.precision = precision
        self.obs_shape = tuple(obs_shape)
        self.n_actions = n_actions
        self.core = core
        self.hidden = hidden
        c = obs_shape[0]
        self.conv = nn.Sequential(
            nn.Conv2d(c, channels, kernel_size=3, stride=2),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, kernel_size=3, stride=2),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, kernel_size=3, stride=2),
            nn.ReLU(inplace=True),
            nn.Flatten(),
        )
        # channels-last convolutions: oneDNN runs the replay's forward and backward ~1.8×
        # faster on CPU than in the default layout (benchmarks/conv_layout.py)
        self.conv.to(memory_format=torch.channels_last)
        with torch.no_grad():
            n_flat = self.encode_conv(torch.zeros(1, *obs_shape)).shape[1]  # 512 (1, 42, 42)
        self.hid = nn.Linear(n_flat, hidden)
        self.rnn = nn.LSTMCell(hidden, hidden) if core == "lstm" else None
        self.logits = nn.Linear(hidden, n_actions)
        self.state_value = nn.Linear(hidden, 1)

    @property
    def memory_size(self) -> int:
        return self.hidden if self.rnn is not None else 0

    @property
    def device(self) -> torch.device:
        return self.logits.weight.device

    def get_initial_state(self, batch_size: int) -> MemoryState:
        """Memory at game start: zeros, (h, c) each [batch_size, hidden]."""
        zeros = torch.zeros(batch_size, self.memory_size, device=self.device)
        return zeros, zeros.clone()

    def encode_conv(self, obs: torch.Tensor) -> torch.Tensor:
        """[N, C, H, W] pixels (uint8 or float) -> [N, n_flat] float32, the conv stack's output."""
        x = _as_float_obs(obs).contiguous(memory_format=torch.channels_last)
        if self.precision == "fp32":
            return self.conv(x)
        with torch.autocast(x.device.type, dtype=torch.bfloat16):
            return self.conv(x).float()

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        """[N, C, H, W] pixels (uint8 or float) -> [N, hidden] features."""
        return F.relu(self.hid(self.encode_conv(obs)))

    def _core(self, prev_state: MemoryState, x: torch.Tensor) -> tuple[MemoryState, torch.Tensor]:
        """One memory step: x [B, hidden] -> new (h, c) and the output [B, hidden]."""
        if self.rnn is None:
            return prev_state, x
        h, c = self.rnn(x, prev_state)
        return (h, c), h

    def _heads(self, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """[..., hidden] -> logits [..., n_actions], value [...]."""
        return self.logits(out), self.state_value(out).squeeze(-1)

    def forward(
        self, prev_state: MemoryState, obs_t: torch.Tensor
    ) -> tuple[MemoryState, tuple[torch.Tensor, torch.Tensor]]:
        """One step for a batch of games.

        obs_t [B, C, H, W] -> new memory, (logits [B, n_actions], state value [B]).
        """
        new_state, out = self._core(prev_state, self.encode(obs_t))
        return new_state, self._heads(out)

    def unroll(
        self,
        obs: torch.Tensor,
        prev_state: MemoryState,
        is_not_done: torch.Tensor,
        features: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, MemoryState]:
        """Replay a rollout: the conv stack on all T×B frames at once, the LSTM step by step.

        obs [T, B, C, H, W]; is_not_done [T, B], 0 where a game ended at step t, so the
        memory is zeroed before step t + 1, exactly as the pool did while acting.
        `features` [T, B, hidden], `encode(obs)` as `act` returned it while playing (with
        its graph), replaces the conv stack's forward pass; obs is then not read.
        Returns logits [T, B, n_actions], values [T, B] and the memory after step T - 1.
        """
        T, B = obs.shape[:2]
        x = features  # [T, B, hidden]
        if x is None:
            x = self.encode(obs.reshape(T * B, *obs.shape[2:])).view(T, B, -1)
        if self.rnn is None:
            logits, values = self._heads(x)
            return logits, values, prev_state
        keep = is_not_done.to(x.dtype).unsqueeze(-1)  # [T, B, 1]
        state = prev_state
        outs = []
        for t in range(T):
            state, out = self._core(state, x[t])
            outs.append(out)
            state = (state[0] * keep[t], state[1] * keep[t])
        logits, values = self._heads(torch.stack(outs))  # [T, B, A], [T, B]
        return logits, values, state

    # no_grad rather than inference_mode: the memory it returns is later the start of a
    # replay that keeps gradients, which inference tensors refuse.
    @torch.no_grad()
    def step(
        self, prev_state: MemoryState, obs_t: np.ndarray | torch.Tensor
    ) -> tuple[MemoryState, tuple[torch.Tensor, torch.Tensor]]:
        """Like forward, for acting: obs_t may be a numpy array; no gradients are kept."""
        obs = torch.as_tensor(np.asarray(obs_t), device=self.device)
        return self.forward(prev_state, obs)

    def act(
        self, prev_state: MemoryState, obs_t: np.ndarray | torch.Tensor
    ) -> tuple[MemoryState, tuple[torch.Tensor, torch.Tensor], torch.Tensor]:
        """`step` that also returns `encode(obs_t)` [B, hidden] with its autograd graph.

        The update's replay runs with the same weights as the acting did, so it can reuse
        these features instead of running the conv stack again (`unroll(features=...)`);
        the gradient flows back through the graph kept here.
        """
        obs = torch.as_tensor(np.asarray(obs_t), device=self.device)
        with torch.enable_grad():
            x = self.encode(obs)
        with torch.no_grad():
            new_state, out = self._core(prev_state, x.detach())
            return new_state, self._heads(out), x

    def sample_actions(self, agent_outputs: tuple[torch.Tensor, torch.Tensor]) -> np.ndarray:
        """Sample one action per game from the policy: logits [B, A] -> int64 [B]."""
        logits, _ = agent_outputs
        probs = F.softmax(logits.float(), dim=-1)
        return torch.multinomial(probs, 1)[:, 0].cpu().numpy().astype(np.int64)
