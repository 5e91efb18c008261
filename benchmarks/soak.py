"""Soak: train for a long while and watch resident memory; it must not creep up.

    python benchmarks/soak.py --minutes 30 --out benchmarks/results/soak.json

Starts `kungfu train` with the default settings (evaluations and checkpoints included) in
a subprocess, reads its resident set size (VmRSS of /proc/PID/status, the process and its
children) every `--every` seconds, stops it after `--minutes`, and reports the growth from
the sample at `--warmup` minutes to the last one. Target: under 5 %. Not part of the tests.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: the repository root, for `benchmarks.*`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.runner import kungfu, write_report


def rss_mib(pid: int) -> float:
    """Resident memory of `pid` and its descendants, MiB."""
    total = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        total += next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")
        )
        pids += [int(c) for c in children]
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=5, help="minutes before the baseline")
    parser.add_argument("--every", type=float, default=60, help="seconds between samples")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/soak.json"))
    parser.add_argument("train_args", nargs="*", help="extra `kungfu train` flags")
    args = parser.parse_args()

    runs = tempfile.mkdtemp(prefix="kungfu-soak-")
    cmd = kungfu(
        "train",
        "--frames",
        "1e9",
        "--runs-dir",
        runs,
        "--run-name",
        "soak",
        "--no-progress",
        *args.train_args,
    )
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = time.monotonic()
    samples: list[dict[str, float]] = []
    try:
        while time.monotonic() - start < args.minutes * 60:
            time.sleep(args.every)
            if proc.poll() is not None:
                raise SystemExit(f"training exited early with code {proc.returncode}")
            minute = (time.monotonic() - start) / 60
            samples.append({"minute": round(minute, 2), "rss_mib": round(rss_mib(proc.pid), 1)})
            print(f"{minute:6.1f} min  {samples[-1]['rss_mib']:8.1f} MiB", flush=True)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)

    base = next(s for s in samples if s["minute"] >= args.warmup)
    growth = (samples[-1]["rss_mib"] - base["rss_mib"]) / base["rss_mib"]
    metrics = (Path(runs) / "soak" / "metrics.csv").read_text().splitlines()
    report = {
        "command": " ".join(cmd),
        "minutes": args.minutes,
        "samples": samples,
        "baseline": base,
        "growth_after_warmup": growth,
        "peak_rss_mib": max(s["rss_mib"] for s in samples),
        "updates_logged": len(metrics) - 1,
    }
    print(
        f"resident memory {base['rss_mib']:.0f} MiB at {base['minute']:.0f} min -> "
        f"{samples[-1]['rss_mib']:.0f} MiB at {samples[-1]['minute']:.0f} min: "
        f"{100 * growth:+.2f} % (target: under 5 %)"
    )
    write_report(report, args.out)


if __name__ == "__main__":
    main()
