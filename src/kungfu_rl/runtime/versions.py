"""The versions a result was produced with, for every JSON and report that holds one."""

from __future__ import annotations

import platform


def versions() -> dict[str, str]:
    import ale_py
    import gymnasium
    import numpy
    import torch

    from .. import __version__

    return {
        "kungfu_rl": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "ale_py": ale_py.__version__,
        "gymnasium": gymnasium.__version__,
        "numpy": numpy.__version__,
    }
