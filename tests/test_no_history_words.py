"""The pages and the package describe the system as it is, not the history of its making.

README.md, docs/*.md and every .py file under src/kungfu_rl (docstrings and comments
included) must not speak of issues, work sessions, rows of the experiment log, "today's"
settings or what held "before" a change. The experiment log itself lives in lab-log/, which
is not checked. Each file is its own case, so a failure names the file and the lines.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

HISTORY = {
    "an issue": re.compile(r"\b[Ii]ssues? #?\d+"),
    # the project's numbered work sessions; a resumed run's own sessions are ordinary words
    "a work session": re.compile(
        r"\b[Ss]essions?[ -]?\d+|\bsession's (?:day|machine|code|defaults|end)\b"
    ),
    "today's settings": re.compile(r"\b[Tt]oday'?s?\b"),
    "before a change": re.compile(
        r"\bbefore (?:issue|session|the change|the refactor|those|it changed)\b"
        r"|\bthe defaults before\b|\b(?:previous|old|earlier) defaults?\b"
        r"|\bdefaults of the day\b"
    ),
    # the log's numbered rows ("row 22", "rows 3-3c", "rows 19–20e"); an index into a tensor
    # or table ("row 0 of the tensor", "row 1 of metrics.csv") or a crop ("rows 60:-30") is
    # ordinary prose
    "a row of the log": re.compile(
        r"\brows? [1-9]\d?[a-e]?(?:\s*(?:[–-]|and|to)\s*[1-9]?\d?[a-e]?)?\b(?! of\b|:)"
    ),
    # the log's labelled runs: Pong P1-P9, Breakout B1-B17
    "a labelled run of the log": re.compile(r"\b[PB]1?\d\b(?![\w(])"),
}


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def sources() -> list[Path]:
    return sorted((ROOT / "src" / "kungfu_rl").rglob("*.py"))


def hits(text: str) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for what, pattern in HISTORY.items():
            for match in pattern.finditer(line):
                found.append(f"line {number}: {what}: {match.group(0)!r} in {line.strip()[:120]!r}")
    return found


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", pages() + sources(), ids=_id)
def test_no_history_words(path):
    found = hits(path.read_text(encoding="utf-8"))
    assert not found, f"{_id(path)} speaks of history:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "text",
    [
        "the defaults since row 22b",
        "rows 3–3c are the test",
        "(tuning.md, rows 19–20e)",
        "issue 18's 40M target",
        "on session 4's day",
        "at today's defaults",
        "the defaults before issue 18",
        "Pong's P6",
        "Breakout B15, seed 1",
        "on this session's machine",
    ],
)
def test_the_patterns_catch_the_logs_words(text):
    assert hits(text)


@pytest.mark.parametrize(
    "text",
    [
        "x = frames[0]  # row 0 of the tensor",
        "row 1 of metrics.csv holds the header",
        "the last row of each batch",
        "a session of TensorBoard",
        "frames/s of this session so far",
        "crop rows 60:-30 and columns 15:",
        "P(a|s) and B batches",
        "before the update, replayed logits equal the acting logits",
        "the defaults are one pass of four steps",
    ],
)
def test_the_patterns_leave_ordinary_prose_alone(text):
    assert not hits(text)
