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


def help_of(capsys, monkeypatch, *argv) -> str:
    """`kungfu ARGV --help` as printed, its lines joined back into one (printed wide, so
    that no word is broken at a hyphen)."""
    monkeypatch.setenv("COLUMNS", "2000")
    with pytest.raises(SystemExit) as end:
        main([*argv, "--help"])
    assert end.value.code == 0
    return " ".join(capsys.readouterr().out.split())


def test_train_help_says_what_each_preset_is(capsys, monkeypatch):
    from kungfu_rl.config.presets import PRESET_HELP, PRESETS

    assert set(PRESETS) <= set(PRESET_HELP), "a preset without its few words in PRESET_HELP"
    shown = help_of(capsys, monkeypatch, "train")
    assert "none: the defaults" in shown
    for name in PRESETS:
        words = " ".join(PRESET_HELP[name].split())
        assert f"{name}: {words}" in shown, name


def test_bounds_and_defaults_are_numbers_people_write(capsys, monkeypatch):
    import dataclasses
    import re

    from kungfu_rl.config import MAX_SEED, Config, spec_of
    from kungfu_rl.config.validation import number

    assert number(MAX_SEED) == "2147483647" and number(10**15) == number(1e15) == "1e15"
    assert [number(x) for x in (1e3, 1e6, 0.99, 1e-8, 3e-4, 4096, 0)] == [
        "1000", "1e6", "0.99", "1e-8", "0.0003", "4096", "0"
    ]  # fmt: skip
    for f in dataclasses.fields(Config):
        spec = spec_of(f)
        for bound in (spec.low, spec.high):
            if bound is not None:  # what is shown reads back as the bound itself
                assert float(number(bound)) == bound and "+" not in number(bound), f.name
    shown = help_of(capsys, monkeypatch, "train")
    assert "<= 2147483647" in shown and "<= 1e15" in shown
    assert not re.search(r"\de[+-]0|e\+", shown), re.findall(r"\S*e[+-]\d+\S*", shown)
    assert main(["train", "--seed", "1e10"]) == 2
    assert "--seed must be >= 0 and <= 2147483647, got 1e10" in capsys.readouterr().err
    assert main(["eval", "pretrained", "--seed", "-1"]) == 2
    assert "must be 0 to 2147483647, got -1" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["--version"],
        ["--help"],
        ["train", "--help"],
        ["eval", "--help"],
        ["watch", "--help"],
        ["train", "--lr", "-1"],  # a new run's settings are checked before torch
        ["train", "--frames", "10"],
    ],
)
def test_help_version_and_a_mistyped_value_import_nothing_but_the_package(argv):
    """Measured in a subprocess: after `kungfu ARGV`, sys.modules holds the standard library
    and kungfu_rl alone (no torch, ale_py, gymnasium, cv2, numpy)."""
    import subprocess
    import sys

    code = (
        "import runpy, sys\n"
        f"sys.argv = ['kungfu', *{argv!r}]\n"
        "try:\n"
        "    runpy.run_module('kungfu_rl', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as end:\n"
        "    code = end.code\n"
        "top = {name.split('.')[0] for name in sys.modules}\n"
        "print(sorted(top - set(sys.stdlib_module_names) - {'__main__', '_distutils_hack'}))\n"
        "print(code)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    *_, imported, code = result.stdout.splitlines()
    assert imported == "['kungfu_rl']", (argv, imported)
    assert code == ("2" if argv[-1] in ("-1", "10") else "0"), (argv, result.stderr)


def test_the_policy_loss_has_an_axis_of_its_own(tmp_path, monkeypatch):
    """The value loss is often a thousand times the policy loss: on one axis, the policy
    loss would be a flat line at zero."""
    import numpy as np

    from kungfu_rl.runs import plots
    from kungfu_rl.runs.metrics import MetricsLogger

    logger = MetricsLogger(tmp_path, tensorboard=False)
    policy = [0.02, -0.01, 0.03, 0.0]
    for update, p in enumerate(policy, start=1):
        logger.record("loss/policy", p)
        logger.record("loss/value", 500.0 * update)
        logger.record("loss/entropy", 2.5)
        logger.dump(update, 640 * update)
    logger.close()
    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, out, title: figures.append(fig) or out)
    plots.plot_learning_curves(tmp_path / "metrics.csv", tmp_path / "curves.png")
    [fig] = figures
    drawn = {
        ax: [list(np.round(line.get_ydata(), 6)) for line in ax.get_lines()] for ax in fig.axes
    }
    [policy_ax] = [ax for ax, lines in drawn.items() if policy in lines]
    assert drawn[policy_ax] == [policy]  # alone on its axis
    low, high = policy_ax.get_ylim()
    assert high - low < 1  # scaled to itself, not to the value loss
    assert "policy loss" in policy_ax.get_title()
    plots.plt.close(fig)


def test_the_gif_writer_shows_every_frame_for_the_same_time(tmp_path):
    """A still opening and a pause are frames like the others: no first frame held for
    seconds (Pillow's writer folds equal neighbours into one frame of their summed time)."""
    import imageio.v3 as iio
    import numpy as np
    from PIL import Image, ImageSequence

    from kungfu_rl.play.evaluate import GifWriter

    rng = np.random.default_rng(0)
    colours = rng.integers(0, 256, (100, 3), dtype=np.uint8)  # an Atari screen has 128
    frames = [colours[rng.integers(0, 100, (210, 160))]] * 8  # [210, 160, 3]: a still start
    for _ in range(8):  # then play: a block moves
        frame = frames[-1].copy()
        y, x = rng.integers(0, 180), rng.integers(0, 130)
        frame[y : y + 30, x : x + 30] = colours[rng.integers(0, 100)]
        frames.append(frame)
    frames += [frames[-1]] * 4  # and a pause
    writer = GifWriter(tmp_path / "game.gif", fps=15, seconds=60)
    for frame in frames:
        writer.add(frame)
    writer.close()

    gif = Image.open(tmp_path / "game.gif")
    durations = [frame.info["duration"] for frame in ImageSequence.Iterator(gif)]
    assert durations == [70] * len(frames)  # 1/15 s to GIF's nearest hundredth
    assert gif.info["loop"] == 0
    assert (iio.imread(tmp_path / "game.gif", index=None) == np.stack(frames)).all()

    many = [rng.integers(0, 256, (21, 16, 3), dtype=np.uint8) for _ in range(3)]  # > 256
    writer = GifWriter(tmp_path / "many.gif", fps=15, seconds=60)
    for frame in many + many[-1:]:
        writer.add(frame)
    writer.close()
    gif = Image.open(tmp_path / "many.gif")
    assert [frame.info["duration"] for frame in ImageSequence.Iterator(gif)] == [70] * 4
