"""The renderers: each builds a generated page, table or data file from the committed result
JSONs alone, prints it, and with `--write` replaces it; a test checks each against what it
builds. None trains, evaluates or measures anything.

    suite_page.py      docs/suite.md and docs/suite_curves_10M.png
    measured_games.py  src/kungfu_rl/measured_games.json, which `kungfu games` reads
    readme_tables.py   README.md's two tables
    results_table.py   docs/results.md's score table
    peers_table.py     docs/peers.md's table and docs/peers_breakout_5M.png
    throughput_sweep.py  the PNG of a throughput sweep
"""
