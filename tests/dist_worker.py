"""One rank of a distributed test run: trains, then saves its parameters as rank<R>.pt.

    torchrun --standalone --nproc_per_node 2 tests/dist_worker.py OUT_DIR SETTINGS_JSON
    torchrun --standalone --nproc_per_node 2 tests/dist_worker.py OUT_DIR OVERRIDES_JSON RUN

With RUN, the run is resumed with those overrides instead of started.
"""

import json
import os
import sys
from pathlib import Path

import torch

from kungfu_rl import Config, resume, train

out, settings = Path(sys.argv[1]), json.loads(sys.argv[2])
result = resume(sys.argv[3], settings) if len(sys.argv) > 3 else train(Config(**settings))
torch.save(result.agent.state_dict(), out / f"rank{os.environ['RANK']}.pt")
