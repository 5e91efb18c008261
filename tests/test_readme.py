"""docs/results.md's score table is the one the committed score JSONs make."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _results_table():
    spec = importlib.util.spec_from_file_location(
        "results_table", ROOT / "benchmarks" / "results_table.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_results_score_table_matches_the_score_jsons():
    results_table = _results_table()
    readme = results_table.TARGET.read_text()
    assert results_table.BEGIN in readme and results_table.END in readme
    expected = results_table.replace_in(readme, results_table.table())
    assert readme == expected, "run: python benchmarks/results_table.py --write"
