"""The PNG of a throughput sweep (benchmarks/throughput.py --sweep), from its JSON alone.

    python benchmarks/render/throughput_sweep.py benchmarks/results/throughput_sweep.json

Three panels against the games played in parallel, one line per emulator × torch threads
setting: raw and training steps/s, training over the raw emulator (a), and training over the
pipelined raw emulator (a2). The PNG is written next to the JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def plot_sweep(rows: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    for (env_t, torch_t), style in zip(
        sorted({(r["env_threads"], r["torch_threads"]) for r in rows}),
        ["o-", "s--", "^-.", "d:"],
        strict=False,
    ):
        sel = sorted(
            (r for r in rows if (r["env_threads"], r["torch_threads"]) == (env_t, torch_t)),
            key=lambda r: r["n_games"],
        )
        games = [r["n_games"] for r in sel]
        label = f"{env_t} emulator / {torch_t} torch threads"
        raw = [r["raw_around_training_steps_per_s"] for r in sel]
        axes[0].plot(games, raw, style, label=f"raw, {label}")
        axes[0].plot(
            games,
            [r["training_steps_per_s"] for r in sel],
            style,
            alpha=0.6,
            label=f"training, {label}",
        )
        axes[1].plot(games, [r["training_over_raw"] for r in sel], style, label=label)
        axes[2].plot(games, [r["training_over_pipelined_raw"] for r in sel], style, label=label)
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xlabel("games in parallel")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("agent steps / s")
    axes[0].legend(fontsize=7)
    axes[1].set_ylabel("training / raw emulator (a)")
    axes[1].legend(fontsize=7)
    axes[2].set_ylabel("training / pipelined raw emulator (a2)")
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep_json", type=Path, help="a JSON of `throughput.py --sweep`")
    args = parser.parse_args(argv)
    png = args.sweep_json.with_suffix(".png")
    plot_sweep(json.loads(args.sweep_json.read_text())["sweep"], png)
    print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
