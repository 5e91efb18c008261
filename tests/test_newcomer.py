"""What a newcomer trying the tool met: odd paths given to eval and watch, the help's words
and numbers, the help's speed, the learning-curve plot, the GIF's frame durations."""

import os
import zipfile

import pytest
import torch

from kungfu_rl.cli import main


def odd_inputs(tmp_path):
    """Paths that are no checkpoint and no run folder, each with the words its error needs."""
    text = tmp_path / "passwd"
    text.write_text("root:x:0:0:root:/root:/bin/bash\n")
    (tmp_path / "empty.pt").write_bytes(b"")
    (tmp_path / "garbage.pt").write_bytes(b"\x13\x37" + os.urandom(2000))
    with zipfile.ZipFile(tmp_path / "photos.zip", "w") as z:
        z.writestr("a.txt", "not torch")
    torch.save(torch.zeros(3), tmp_path / "tensor.pt")
    (tmp_path / "no-run").mkdir()
    cases = {
        text: "not a checkpoint (a text file",
        tmp_path / "empty.pt": "not a checkpoint (an empty file)",
        tmp_path / "garbage.pt": "not a checkpoint",
        tmp_path / "photos.zip": "not a checkpoint (a zip file",
        tmp_path / "tensor.pt": "not a kungfu_rl checkpoint",
        tmp_path / "no-run": "not a run folder",
        tmp_path / "nowhere": "no run folder or checkpoint at",
    }
    if os.path.isfile("/etc/passwd"):
        cases["/etc/passwd"] = "not a checkpoint"
    return cases


@pytest.mark.parametrize("command", ["eval", "watch"])
def test_what_is_not_a_checkpoint_gets_one_line_and_exit_2(tmp_path, capsys, command):
    for path, words in odd_inputs(tmp_path).items():
        assert main([command, str(path)]) == 2, path
        err = capsys.readouterr().err
        [line] = err.strip().splitlines()
        assert line.startswith("kungfu: error: ") and words in line, (path, line)
        assert "Error:" not in line and "list index" not in line, line  # no Python error
