"""The network's memory layout: channels-first against channels-last, in one run.

    python benchmarks/conv_layout.py --repeats 10 --out benchmarks/results/conv_layout.json

Times, interleaved so that machine noise hits both alike, (1) the replay of a default
rollout (21 steps × 32 games: conv on all frames, LSTM step by step) forward and backward,
and (2) one acting step for 16 games (one overlap half), with the conv weights and inputs in
each layout. Prints the medians and their ratio, writes JSON. One torch thread by default.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import torch

from kungfu_rl import RecurrentAgent


def agent_in(layout: torch.memory_format) -> RecurrentAgent:
    torch.manual_seed(0)
    agent = RecurrentAgent()
    agent.conv.to(memory_format=layout)
    return agent


def replay(agent: RecurrentAgent, obs: torch.Tensor, layout: torch.memory_format) -> None:
    T, B = obs.shape[:2]
    x = obs.reshape(T * B, *obs.shape[2:]).float().div(255).contiguous(memory_format=layout)
    feats = torch.relu(agent.hid(agent.conv(x))).view(T, B, -1)
    state = agent.get_initial_state(B)
    outs = []
    for t in range(T):
        state = agent.rnn(feats[t], state)
        outs.append(state[0])
    logits, values = agent._heads(torch.stack(outs))
    (logits.sum() + values.sum()).backward()


@torch.no_grad()
def act(agent: RecurrentAgent, obs: torch.Tensor, layout: torch.memory_format) -> None:
    x = obs.float().div(255).contiguous(memory_format=layout)
    agent._heads(agent.rnn(torch.relu(agent.hid(agent.conv(x))), agent.get_initial_state(16))[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/conv_layout.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rollout = torch.randint(0, 256, (21, 32, 1, 42, 42), dtype=torch.uint8)
    half = torch.randint(0, 256, (16, 1, 42, 42), dtype=torch.uint8)
    layouts = {"channels_first": torch.contiguous_format, "channels_last": torch.channels_last}
    agents = {name: agent_in(layout) for name, layout in layouts.items()}
    times: dict[str, dict[str, list[float]]] = {n: {"replay": [], "act": []} for n in layouts}
    for i in range(args.repeats + 2):
        for name, layout in layouts.items():
            for what, fn, x, reps in (("replay", replay, rollout, 1), ("act", act, half, 20)):
                start = time.perf_counter()
                for _ in range(reps):
                    fn(agents[name], x, layout)
                if i >= 2:  # two warm-up rounds
                    times[name][what].append((time.perf_counter() - start) / reps * 1e3)
    result = {
        name: {what: statistics.median(v) for what, v in d.items()} for name, d in times.items()
    }
    for what in ("replay", "act"):
        first, last = result["channels_first"][what], result["channels_last"][what]
        print(
            f"{what:7s} channels-first {first:7.2f} ms  channels-last {last:7.2f} ms  "
            f"ratio {first / last:.2f}×"
        )
    report = {
        "median_ms": result,
        "threads": args.threads,
        "repeats": args.repeats,
        "load_average": os.getloadavg(),
        "torch": torch.__version__,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
