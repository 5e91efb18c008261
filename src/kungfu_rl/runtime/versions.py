"""The package's version, and the versions a result was produced with, for every JSON and
report that holds one."""

from __future__ import annotations

import platform

__version__ = "0.1.0"
"""kungfu_rl's version (pyproject.toml's); the package's own `kungfu_rl.__version__`."""


def versions() -> dict[str, str]:
    import ale_py
    import gymnasium
    import numpy
    import torch

    return {
        "kungfu_rl": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "ale_py": ale_py.__version__,
        "gymnasium": gymnasium.__version__,
        "numpy": numpy.__version__,
    }
