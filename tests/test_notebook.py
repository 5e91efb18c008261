"""The course notebook on the package runs top to bottom (with a tiny budget)."""

import re
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "kungfu_recurrent.ipynb"


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


def test_notebook_runs_top_to_bottom(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    first = nb.cells[1]
    assert re.search(r"^FRAMES = ", first.source, re.M)
    # 3 updates of 4 games × 5 steps: a tiny budget, same code path
    first.source = re.sub(r"^FRAMES = .*$", "FRAMES = 3 * 4 * 5 * 4", first.source, flags=re.M)
    first.source = re.sub(r"^N_GAMES = .*$", "N_GAMES = 4", first.source, flags=re.M)
    first.source = re.sub(r"^ROLLOUT_LEN = .*$", "ROLLOUT_LEN = 5", first.source, flags=re.M)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert "Observations shape: (4, 6, 1, 42, 42) float32" in text
    assert "n-step return == GAE(1) + V: True" in text
    assert "trained 3 updates (240 frames)" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    videos = [o for o in outputs if "<video" in o.get("data", {}).get("text/html", "")]
    assert len(images) >= 2 and len(videos) == 2  # frame vs observation, curve; two games
    assert (tmp_path / "videos" / "trained" / "game-00.mp4").is_file()
