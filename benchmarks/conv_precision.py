"""The conv stacks' forward + backward in fp32 and in bf16, for `--precision auto`'s choice.

    python benchmarks/conv_precision.py --out benchmarks/results/conv_precision.json

Times each network's conv stack as the agent runs it (channels-last, bf16 under autocast)
on a batch of frames: the notebook's on 42×42×1, the papers' (`--network nature`) on
84×84×4. Prints and writes the median seconds of `--repeats` forward + backward passes per
batch size, and bf16's time as a multiple of fp32's. Run it alone: both cores go to torch.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: the repository root, for `benchmarks.*`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from benchmarks.runner import write_report
from kungfu_rl.agent.networks import nature_convs, notebook_convs

NETWORKS = {
    "notebook": (lambda: notebook_convs(1, 32), (1, 42, 42)),
    "nature": (lambda: nature_convs(4), (4, 84, 84)),
}


def time_stack(network: str, precision: str, batch: int, repeats: int) -> float:
    """Median seconds of one forward + backward of `network`'s conv stack on `batch` frames."""
    build, shape = NETWORKS[network]
    torch.manual_seed(0)
    net = build().to(memory_format=torch.channels_last)
    x = torch.rand(batch, *shape).contiguous(memory_format=torch.channels_last)
    times = []
    for _ in range(repeats + 1):  # the first pass warms oneDNN up and is not counted
        start = time.perf_counter()
        if precision == "bf16":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                y = net(x).float()
        else:
            y = net(x)
        y.sum().backward()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[256, 640])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/conv_precision.json"))
    args = parser.parse_args()
    rows = []
    for network in NETWORKS:
        for batch in args.batches:
            fp32 = time_stack(network, "fp32", batch, args.repeats)
            bf16 = time_stack(network, "bf16", batch, args.repeats)
            rows.append(
                {
                    "network": network,
                    "batch": batch,
                    "fp32_s": fp32,
                    "bf16_s": bf16,
                    "bf16_over_fp32": bf16 / fp32,
                }
            )
            print(
                f"{network:9s} batch {batch:4d}: fp32 {fp32:.3f} s, bf16 {bf16:.3f} s "
                f"({bf16 / fp32:.2f}x)"
            )
    write_report(
        {
            "benchmark": "conv_precision",
            "threads": torch.get_num_threads(),
            "repeats": args.repeats,
            "rows": rows,
        },
        args.out,
    )


if __name__ == "__main__":
    main()
