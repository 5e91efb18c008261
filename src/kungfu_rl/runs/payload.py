"""What a checkpoint must hold, checked part by part: its config, the weights of the network
that config builds, the counters, the optimizer state, the RNG states, the evaluations."""

from __future__ import annotations

import functools
import math
import random
from typing import Any

import numpy as np
import torch

from ..agent.networks import RecurrentAgent
from ..config import Config, ConfigError
from .checks import MAX_COUNT, Damaged, real, shown, tensor, whole
from .files import settle

MAX_WEIGHT = 1e6
"""Largest weight magnitude a checkpoint may hold; a network this large would overflow
float32 in its forward pass, and no training with a clipped gradient gets near it."""
_RNG_LAYOUT = {"torch", "numpy_keys", "numpy_pos", "python"}
MAX_GPUS = 1024
"""Most GPU RNG states a checkpoint may hold (one per GPU of the machine that wrote it)."""
_ADAM_FLAGS = ("amsgrad", "maximize", "capturable", "differentiable", "decoupled_weight_decay")


def check_payload(payload: Any, resumable: bool) -> None:
    if not isinstance(payload, dict):
        raise Damaged(f"it holds a {type(payload).__name__}, not a kungfu_rl checkpoint")
    needed = ("model", "config", *(("optimizer", "update", "frames") if resumable else ()))
    missing = [k for k in needed if k not in payload]
    if missing:
        raise Damaged(f"not a kungfu_rl checkpoint (no {', '.join(missing)})")
    if not isinstance(payload["config"], str):
        raise Damaged("its config is not JSON text")
    try:
        config = settle(Config.from_json(payload["config"]))
    except ConfigError as e:
        raise Damaged(f"its config does not validate: {e}") from None
    model = payload["model"]
    head = model.get("logits.weight") if isinstance(model, dict) else None
    if not (isinstance(head, torch.Tensor) and head.dim() == 2 and 1 <= head.shape[0] <= 1024):
        raise Damaged("its weights have no action head (logits.weight)")
    expected, param_shapes = _network(
        config.network,
        config.core,
        config.hidden,
        config.channels,
        config.frame_stack,
        config.frame_size,
        head.shape[0],
    )
    _check_model(model, expected)
    counts = {k: whole(payload[k], k, MAX_COUNT) for k in ("update", "frames") if k in payload}
    if counts.get("update", 0) > counts.get("frames", MAX_COUNT):  # an update is frames
        raise Damaged(f"it counts more updates ({counts['update']:,}) than frames")
    if "optimizer" in payload:
        _check_adam(payload["optimizer"], param_shapes)
    if "rng" in payload:
        _check_rng(payload["rng"])
    if "evaluations" in payload:
        _check_evaluations(payload["evaluations"])
    if "elapsed_s" in payload:
        real(payload["elapsed_s"], "elapsed_s", high=1e12)
    if "world_size" in payload:
        whole(payload["world_size"], "world_size", 1 << 20, low=1)
    if "reward_normalizer" in payload:
        _check_reward_statistics(payload["reward_normalizer"])


def _check_reward_statistics(state: Any) -> None:
    """`algo.rewards.ReturnNormalizer.state_dict()`: count, mean, var."""
    if not isinstance(state, dict):
        raise Damaged(f"its reward statistics are not a dict: {shown(state)}")
    for key, low in (("count", 0.0), ("mean", -math.inf), ("var", 0.0)):
        real(state.get(key), f"reward statistic {key!r}", low=low)


@functools.lru_cache(maxsize=16)
def _network(
    network: str,
    core: str,
    hidden: int,
    channels: int,
    frame_stack: int,
    frame_size: int,
    n_actions: int,
) -> tuple[dict[str, tuple[int, ...]], tuple[tuple[int, ...], ...]]:
    """The weights' names and shapes, and the parameters' shapes in the optimizer's order,
    of the network these settings build (built aside: the RNG streams stay as they were)."""
    shape = (frame_stack, frame_size, frame_size)
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        agent = RecurrentAgent(
            shape, n_actions, core=core, hidden=hidden, channels=channels, network=network
        )
    names = {k: tuple(v.shape) for k, v in agent.state_dict().items()}
    return names, tuple(tuple(p.shape) for p in agent.parameters())


def _check_model(model: dict[Any, Any], expected: dict[str, tuple[int, ...]]) -> None:
    unknown = [str(k)[:40] for k in model if k not in expected]
    absent = [k for k in expected if k not in model]
    if unknown or absent:
        what = f"no {', '.join(absent[:3])}" if absent else f"unknown {', '.join(unknown[:3])}"
        raise Damaged(f"it does not fit its own network settings ({what})")
    for name, shape in expected.items():
        value = model[name]
        if isinstance(value, torch.Tensor) and tuple(value.shape) != shape:
            raise Damaged(
                f"it does not fit its own network settings ({name} has shape "
                f"{tuple(value.shape)}, not {shape})"
            )
        tensor(value, f"weight {name}", bound=MAX_WEIGHT)


def _check_adam(state: Any, param_shapes: tuple[tuple[int, ...], ...]) -> None:
    """The optimizer state is what `torch.optim.Adam(agent.parameters()).state_dict()` gives
    for this network: one parameter group over every parameter, moments of their shapes."""
    if not isinstance(state, dict) or set(state) != {"state", "param_groups"}:
        raise Damaged("its optimizer state is not Adam's")
    groups = state["param_groups"]
    if not (isinstance(groups, list) and len(groups) == 1 and isinstance(groups[0], dict)):
        raise Damaged("its optimizer state has not one parameter group")
    group = groups[0]
    if group.get("params") != list(range(len(param_shapes))):
        raise Damaged("its optimizer state is for another network")
    for key in ("lr", "eps", "weight_decay"):
        real(group.get(key), f"optimizer {key}", high=1e6)
    betas = group.get("betas")
    if not (isinstance(betas, list | tuple) and len(betas) == 2):
        raise Damaged("its optimizer betas are not two numbers")
    for beta in betas:
        real(beta, "optimizer beta", high=0.999999)
    for key in _ADAM_FLAGS:
        if not isinstance(group.get(key, False), bool):
            raise Damaged(f"its optimizer {key} is not true or false")
    if group.get("capturable") or group.get("differentiable"):
        raise Damaged("its optimizer state is not one this package writes")
    for key in ("foreach", "fused"):
        if group.get(key) is not None and not isinstance(group[key], bool):
            raise Damaged(f"its optimizer {key} is not true, false or none")
    moments = state["state"]
    if not isinstance(moments, dict):
        raise Damaged("its optimizer moments are not a table")
    for index, entry in moments.items():
        if not (isinstance(index, int) and 0 <= index < len(param_shapes)):
            raise Damaged(f"its optimizer has moments for no parameter ({shown(index)})")
        if not isinstance(entry, dict):
            raise Damaged(f"its optimizer moments of parameter {index} are not a table")
        step = entry.get("step")
        if isinstance(step, torch.Tensor):
            if step.numel() != 1:
                raise Damaged(f"its optimizer step of parameter {index} is not one number")
            step = float(step.float())
        real(step, f"optimizer step of parameter {index}", high=float(MAX_COUNT))
        names = ("exp_avg", "exp_avg_sq", *(("max_exp_avg_sq",) if group.get("amsgrad") else ()))
        for name in names:
            moment = tensor(entry.get(name), f"optimizer {name}[{index}]", param_shapes[index])
            if name != "exp_avg" and moment.numel() and float(moment.min()) < 0:
                raise Damaged(f"its optimizer {name}[{index}] is negative")


def _check_rng(state: Any) -> None:
    """The RNG states restore: each is tried on a generator of its own (torch's is put back)."""
    if not isinstance(state, dict) or not set(state) >= _RNG_LAYOUT:
        raise Damaged("its RNG state is not torch, numpy and python's")
    try:
        keys, pos = state["numpy_keys"], state["numpy_pos"]
        if not isinstance(keys, torch.Tensor) or keys.dtype != torch.int64 or keys.dim() != 1:
            raise ValueError("numpy keys")
        if keys.numel() and (int(keys.min()) < 0 or int(keys.max()) >= 2**32):
            raise ValueError("numpy keys")
        if isinstance(pos, bool) or not isinstance(pos, int):
            raise ValueError("numpy position")
        generator = np.random.RandomState()
        generator.set_state(("MT19937", keys.numpy().astype(np.uint32), pos, 0, 0.0))
        version, internal, gauss = state["python"]
        if not isinstance(internal, list | tuple) or len(internal) > 1000:
            raise ValueError("python state")
        random.Random().setstate((version, tuple(internal), gauss))
        torch_state = state["torch"]
        if not isinstance(torch_state, torch.Tensor) or torch_state.dtype != torch.uint8:
            raise ValueError("torch state")
        _check_cuda_rng(state.get("cuda", []))
        now = torch.get_rng_state()
        try:
            torch.set_rng_state(torch_state)
        finally:
            torch.set_rng_state(now)
    except Exception:  # each library checks its own state; any complaint means damaged
        raise Damaged("its RNG state does not restore") from None


def _check_cuda_rng(gpus: Any) -> None:
    """Each GPU's torch state, as `torch.cuda.get_rng_state_all()` gives them: checked by
    their form, since they restore only on a machine with CUDA (a machine without it leaves
    them unused)."""
    if not isinstance(gpus, list) or len(gpus) > MAX_GPUS:
        raise ValueError("cuda states")
    for gpu in gpus:
        if not isinstance(gpu, torch.Tensor) or gpu.dtype != torch.uint8 or gpu.dim() != 1:
            raise ValueError("cuda state")
        if not 1 <= gpu.numel() <= 1024:
            raise ValueError("cuda state")


def _check_evaluations(evaluations: Any) -> None:
    if not isinstance(evaluations, list):
        raise Damaged("its evaluations are not a list")
    for e in evaluations:
        if not isinstance(e, dict):
            raise Damaged("an evaluation in it is not a table")
        whole(e.get("update"), "evaluation update", MAX_COUNT)
        whole(e.get("frames"), "evaluation frames", MAX_COUNT)
        for key in ("mean", "median", "min", "max"):
            real(e.get(key), f"evaluation {key}", low=-math.inf)
