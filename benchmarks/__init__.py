"""The benchmarks: runners that measure the system and write result JSONs, and renderers that
build the docs' tables and pages (and the table `kungfu games` reads) from those JSONs alone.

    runner.py        what the runners share: `kungfu train` / `kungfu eval` as subprocesses,
                     a run folder read back into a result, the one JSON writer
    protocol.py      what runners and renderers share: the suite's games, where results live,
                     a run's settings as flags over the defaults
    score.py suite.py throughput.py scaling.py soak.py profile_iteration.py network_cost.py
    random_play.py peers/cleanrl.py
                     the runners, each writing benchmarks/results/*.json
    render/          the renderers: docs/suite.md, README.md's tables, docs/results.md's table,
                     docs/peers.md's table, src/kungfu_rl/measured_games.json

Every script runs as a file from the repository's root, `python benchmarks/score.py ...`,
`python benchmarks/render/suite_page.py --write`; `make render` runs every renderer.
"""
