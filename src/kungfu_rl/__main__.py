"""`python -m kungfu_rl ...` is `kungfu ...`."""

import sys

from .cli import main

sys.exit(main())
