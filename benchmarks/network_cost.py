"""What the network alone costs per agent step: the defaults' agent against the published agents'.

    python benchmarks/network_cost.py --seconds 10 --out benchmarks/results/network_cost.json

The suite's 40M-frame target (10M agent steps in 60 minutes on two cores) leaves
the network whatever the emulator does not take. This times, with nothing else running and
both cores given to torch, the network's share of one training iteration of 32 games × 20
steps: acting (a forward pass, no gradients, on each half of the games, as the trainer acts)
and learning (a forward and backward pass over the whole rollout, the gradient clip and
Adam's step), on the trainer's loss (`loss.actor_critic_loss`; PPO's clipped ratio when
there is more than one pass) with made-up actions, returns and advantages. No emulator, no
preprocessing, no GAE: the figures are a floor under any training run with that network.

Networks (each timed with float32 convs and, where this CPU computes bfloat16 natively, with
bfloat16 ones, as `--precision` would run them; the faster one is the network's figure):
- `ours`: the defaults, `RecurrentAgent` on one 42×42 frame (3 convs of 32, dense 128,
  LSTM 128);
- `ours-84`: the same with `--frame-size 84` (the first conv takes the 2×2-folded frame);
- `nature`: the network of the DQN, A2C and PPO papers and of SLM-Lab's and CleanRL's Atari
  agents, `RecurrentAgent(network="nature", core="none", hidden=512)` on four stacked 84×84
  frames (convs 32 8×8/4, 64 4×4/2, 64 3×3/1, dense 512, the two heads).

For each it prints the agent steps per second of network work and the minutes that work
alone takes for 40M frames (10M agent steps) with one pass over each rollout (the A2C
papers') and with four (PPO's, whose learning half is four times as long).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

if __package__ in (None, ""):  # run as a file: the repository root, for `benchmarks.*`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.runner import write_report
from kungfu_rl.agent.networks import RecurrentAgent
from kungfu_rl.algo.loss import actor_critic_loss
from kungfu_rl.runtime.machine import cores, native_bf16

N_GAMES, ROLLOUT_LEN, N_ACTIONS = 32, 20, 14
"""The defaults: 32 games, 20 steps per update; Kung-Fu's 14 actions (the heads' size
does not move the cost)."""
AGENT_STEPS_40M = 10_000_000
"""40M emulator frames at frameskip 4."""


def build_network(name: str, precision: str) -> tuple[RecurrentAgent, tuple[int, int, int]]:
    """The network `name` stands for, as `kungfu train` builds it, and its frame's shape."""
    if name == "nature":  # --network nature --core none --hidden 512 --frame-stack 4
        net = RecurrentAgent(
            (4, 84, 84),
            N_ACTIONS,
            network="nature",
            core="none",
            hidden=512,
            init="orthogonal",
            input_norm="none",
            precision=precision,
        )
        return net, (4, 84, 84)
    frame = (1, 84, 84) if name == "ours-84" else (1, 42, 42)
    return RecurrentAgent(frame, N_ACTIONS, precision=precision), frame


def _iteration_of(name: str, precision: str) -> Callable[[int], None]:
    """One iteration's network work for `name`: acting on two halves of the games for
    ROLLOUT_LEN steps, then `passes` forward + backward passes over the rollout."""
    generator = torch.Generator().manual_seed(0)
    half = N_GAMES // 2
    net, frame = build_network(name, precision)
    rollout = torch.randint(0, 256, (ROLLOUT_LEN, N_GAMES, *frame), generator=generator)
    rollout = rollout.to(torch.uint8)  # [T, B, C, H, W]
    actions = torch.randint(0, N_ACTIONS, (ROLLOUT_LEN, N_GAMES), generator=generator)
    returns, advantages = torch.randn(2, ROLLOUT_LEN, N_GAMES, generator=generator)
    old_log_pi = torch.full((ROLLOUT_LEN, N_GAMES), -math.log(N_ACTIONS))  # a uniform policy
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-4)
    not_done = torch.ones(ROLLOUT_LEN, N_GAMES)

    def act() -> None:
        memories = [net.get_initial_state(half) for _ in range(2)]
        for t in range(ROLLOUT_LEN):
            for h in range(2):
                memories[h], outputs = net.step(memories[h], rollout[t, h * half : (h + 1) * half])
                net.sample_actions(outputs)

    def learn(clipped: bool) -> None:
        logits, values, _ = net.unroll(rollout, net.get_initial_state(N_GAMES), not_done)
        loss, _ = actor_critic_loss(
            logits, values, actions, returns, advantages, old_log_pi=old_log_pi if clipped else None
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 0.5)
        optimizer.step()

    def iteration(passes: int) -> None:
        act()
        for _ in range(passes):
            learn(clipped=passes > 1)

    return iteration


def steps_per_s(iteration: Callable[[int], None], passes: int, seconds: float) -> float:
    """Agent steps per second of network work: iterations for `seconds` after a warm-up."""
    for _ in range(2):
        iteration(passes)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        iteration(passes)
        done += 1
    return done * N_GAMES * ROLLOUT_LEN / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="timed seconds per arm")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: every core)")
    parser.add_argument(
        "--networks",
        nargs="+",
        default=["ours", "ours-84", "nature"],
        choices=["ours", "ours-84", "nature"],
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/network_cost.json"))
    args = parser.parse_args()
    threads = args.threads or cores()
    torch.set_num_threads(threads)
    precisions = ["fp32"] + (["bf16"] if native_bf16(torch.device("cpu")) else [])
    print(f"{threads} torch threads; conv precisions {', '.join(precisions)}")
    rows = []
    for name in args.networks:
        for precision in precisions:
            iteration = _iteration_of(name, precision)
            row: dict[str, object] = {"network": name, "precision": precision}
            for passes in (1, 4):
                rate = steps_per_s(iteration, passes, args.seconds)
                minutes = AGENT_STEPS_40M / rate / 60
                row[f"steps_per_s_{passes}_pass"] = rate
                row[f"minutes_per_40M_frames_{passes}_pass"] = minutes
                print(
                    f"{name:8s} {precision} {passes} pass{'es' if passes > 1 else '  '}: "
                    f"{rate:7,.0f} agent steps/s of network work -> "
                    f"{minutes:6.1f} min for 40M frames"
                )
            rows.append(row)
    best = {
        name: min(
            (r for r in rows if r["network"] == name),
            key=lambda r: r["minutes_per_40M_frames_1_pass"],
        )
        for name in args.networks
    }
    for name, row in best.items():
        print(
            f"{name:8s} at its faster precision ({row['precision']}): "
            f"{row['minutes_per_40M_frames_1_pass']:.1f} min (one pass), "
            f"{row['minutes_per_40M_frames_4_pass']:.1f} min (four passes) for 40M frames"
        )
    write_report(
        {
            "what": "network work alone per agent step (acting + learning), no emulator",
            "n_games": N_GAMES,
            "rollout_len": ROLLOUT_LEN,
            "threads": threads,
            "precisions": precisions,
            "fastest": {name: row["precision"] for name, row in best.items()},
            "seconds_per_arm": args.seconds,
            "rows": rows,
        },
        args.out,
    )


if __name__ == "__main__":
    main()
