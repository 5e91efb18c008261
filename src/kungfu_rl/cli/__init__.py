"""The `kungfu` command line: train | eval | watch | plot | report | games.

Mistakes in what a user typed print one line, `kungfu: error: ...`, and exit with code 2.
Each command imports what it needs (torch, ale-py) when it runs, so that `kungfu --help`,
`kungfu --version` and a mistyped flag answer at once.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from .parser import UsageError, build_parser
from .play import cmd_eval, cmd_watch
from .results import cmd_games, cmd_plot, cmd_report
from .train import cmd_train

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


COMMANDS = {
    "train": cmd_train,
    "eval": cmd_eval,
    "watch": cmd_watch,
    "plot": cmd_plot,
    "report": cmd_report,
    "games": cmd_games,
}


def main(argv: Sequence[str] | None = None) -> int:
    from ..config import ConfigError
    from ..runs.errors import CheckpointError

    try:
        args = build_parser().parse_args(argv)
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler below
        return code
    except (UsageError, ConfigError, CheckpointError) as e:
        print(f"kungfu: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\nkungfu: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (`kungfu games | head`): end quietly; point stdout at
        # /dev/null so that Python's own flush at exit does not complain either
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as e:  # a path the file system refuses (a name too long), a folder unread
        where = f": {e.filename}" if e.filename else ""
        print(f"kungfu: error: {e.strerror or e}{where}", file=sys.stderr)
        return EXIT_USAGE
