"""The choices and limits the settings table draws on: the default game, the agent's cores,
inits, input norms, frame sizes and precisions, the reward modes, and the largest seed and
folder name."""

from __future__ import annotations

DEFAULT_GAME = "KungFuMaster"
"""The game the defaults (the notebook's agent) were tuned on, `Config.game`'s default."""
CORES = ("lstm", "gru", "none")
"""Memory cores: the notebook's LSTM, a GRU, or none (feedforward, for the memory ablation)."""
INITS = ("torch", "orthogonal")
"""How the network's weights start: PyTorch's defaults (the notebook's), or orthogonal
matrices (gain √2 for the conv and dense layers, 0.01 for the policy head, 1 for the value
head; biases 0), so that the first policy is near uniform whatever the features say."""
INPUT_NORMS = ("none", "frame")
"""What the network does to a frame's pixels before the convolutions: nothing (÷ 255 only,
the notebook's), or standardise each frame to mean 0 and deviation 1 (small objects on a
flat background, Pong's ball, become as large as Kung-Fu's fighters)."""
RESIZES = ("area", "max")
"""How a cropped frame shrinks to 42×42: `area`, each cell the mean of the pixels it covers
(cv2's INTER_AREA, the notebook's), or `max`, each cell the brightest of them, so that an
object smaller than a cell (Breakout's and Pong's 2×4-pixel ball, a ~4×4-pixel cell) keeps
its full brightness instead of a quarter of it."""
FRAME_SIZES = (42, 84)
"""Sides of the square frame a game shrinks to: 42, the notebook's, or 84, where Breakout's
ball keeps its brightness and a paddle's position is twice as fine. The network's convs see
42×42 either way: it folds each 2×2 block of an 84×84 frame into 4 channels."""
PRECISIONS = ("fp32", "bf16")
"""Arithmetic of the conv stack: float32, or bfloat16 under autocast (weights stay float32)."""
NETWORKS = ("notebook", "nature")
"""The conv stack: the notebook's (3 × conv 32 3×3 stride 2, sized for 42×42 frames), or the
DQN/A2C/PPO papers' (conv 32 8×8 stride 4, 64 4×4 stride 2, 64 3×3 stride 1, sized for 84×84
frames), each followed by the dense layer of --hidden units."""
CROPS = ("play", "scoreless", "none")
"""What part of the 210×160 screen a game's frame keeps: its play area (`envs.games.GAME_CROPS`;
the whole screen for games not listed), the screen less its score bar in every game of the
suite (`envs.games.SCORELESS_CROPS`), or the whole screen, as the published agents saw it."""
DEVICES = ("auto", "cpu", "cuda")
LR_SCHEDULES = ("constant", "linear")
REWARD_MODES = ("scale", "clip", "normalize")
"""How game rewards enter the loss: times --reward-scale; clipped to [-1, 1] (the DQN and
A2C papers'); or divided by a running standard deviation of each game's discounted return
(`algo.rewards.ReturnNormalizer`). Scores, evaluations and logs always count raw rewards."""
MAX_SEED = 2**31 - 1
"""Seeds go to numpy, torch and the emulator; the emulator takes a signed 32-bit int."""
MAX_NAME_BYTES = 255
"""Longest file or folder name most file systems take (NAME_MAX)."""
