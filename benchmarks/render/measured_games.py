"""The table `kungfu games` reads, src/kungfu_rl/measured_games.json, from the suite's JSONs.

    python benchmarks/render/measured_games.py            # print it
    python benchmarks/render/measured_games.py --write    # write it (`make measured-games`)

Per game, its longest measured run of the setting it trains with (`--preset atari`, every
game but Kung-Fu Master), else its longest with `--preset long` or at the defaults (the
preset's first, at equal frames): its 20-game mean, frames, seed, the settings as a person
types them (`--preset NAME`, or the flags over the defaults), and the suite JSON it came
from. The file ships in the wheel (pyproject.toml's package-data);
no benchmark writes it, and a test checks that the committed file is the one this builds.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: the repository root, for `benchmarks.*`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.protocol import ROOT, SUITE_RESULTS, at_defaults, settings_in_flags
from benchmarks.render.suite_runs import GENERAL_TAG, KUNGFU, TABLE_TAG

TABLE = ROOT / "src" / "kungfu_rl" / "measured_games.json"
ABOUT = (
    "Per game, the 20-game mean of its longest measured suite run of the setting it trains "
    "with (--preset atari but for Kung-Fu Master), else with --preset long or at the "
    "defaults; read by `kungfu games`. Written by `make measured-games` "
    "(benchmarks/render/measured_games.py) from benchmarks/results/suite/*.json, whose "
    "commands trained them; edit the renderer, not this file."
)


def measured_games(results: dict[str, dict], doc_tag: str = TABLE_TAG) -> dict[str, dict]:
    """What `kungfu games` shows: per game, its longest measured run of the setting it trains
    with (`--preset atari` for every game but Kung-Fu Master); where it has none, its longest
    at the defaults or with `doc_tag` (those first, at equal frames). `results`: {JSON's path
    from the repository's root: its contents}."""
    best: dict[str, tuple[int, dict]] = {}
    for source, r in results.items():
        game = r["game"]
        if r["tag"] == GENERAL_TAG and game != KUNGFU:
            rank = 2
        elif r["tag"] == doc_tag:
            rank = 1
        elif at_defaults(r):
            rank = 0
        else:
            continue
        key = (rank > 1, r["frames"], rank)  # the game's setting, then frames, then the tag
        if game not in best or key > best[game][0]:
            best[game] = (
                key,
                {
                    "frames": r["frames"],
                    "seed": r["seed"],
                    "mean": round(r["eval"]["mean"], 1),
                    "games": len(r["eval"]["scores"]),
                    "settings": settings_in_flags(r["config"]),
                    "source": source,
                },
            )
    return {game: best[game][1] for game in sorted(best)}


def read(results: Path = SUITE_RESULTS) -> dict[str, dict]:
    """{path from the repository's root: contents} of every suite JSON, in file-name order."""
    found = {}
    for path in sorted(results.glob("*.json")):
        name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        found[str(name)] = json.loads(path.read_text())
    return found


def table(results: Path = SUITE_RESULTS) -> str:
    """The file's text: the same JSONs give the same bytes."""
    return json.dumps({"about": ABOUT, "games": measured_games(read(results))}, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {TABLE.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    text = table()
    if not args.write:
        print(text, end="")
        return 0
    TABLE.write_text(text)
    print(f"wrote {TABLE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
