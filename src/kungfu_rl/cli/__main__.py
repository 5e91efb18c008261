"""`python -m kungfu_rl.cli ...` is `kungfu ...`."""

import sys

from . import main

sys.exit(main())
