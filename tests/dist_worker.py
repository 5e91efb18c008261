"""One rank of a distributed test run: trains, then saves its parameters as rank<R>.pt and
its reward statistics (`ReturnNormalizer.state_dict()`, null without one) as rank<R>.json.

    torchrun --standalone --nproc_per_node 2 tests/dist_worker.py OUT_DIR SETTINGS_JSON
    torchrun --standalone --nproc_per_node 2 tests/dist_worker.py OUT_DIR OVERRIDES_JSON RUN

With RUN, the run is resumed with those overrides instead of started. With the environment
variable KUNGFU_TEST_GAME=countdown, the ranks play tests/fakes.py's CountdownGame.
"""

import json
import os
import sys
from pathlib import Path

import torch

import kungfu_rl.training.trainer as trainer
from kungfu_rl import Config, resume, train

made = []


class KeptNormalizer(trainer.ReturnNormalizer):
    """The trainer's ReturnNormalizer, kept here to be read after training."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        made.append(self)


trainer.ReturnNormalizer = KeptNormalizer
if os.environ.get("KUNGFU_TEST_GAME") == "countdown":
    from fakes import CountdownGame

    trainer.env_factory = lambda config: CountdownGame
out, settings = Path(sys.argv[1]), json.loads(sys.argv[2])
result = resume(sys.argv[3], settings) if len(sys.argv) > 3 else train(Config(**settings))
rank = os.environ["RANK"]
torch.save(result.agent.state_dict(), out / f"rank{rank}.pt")
statistics = made[-1].state_dict() if made else None
(out / f"rank{rank}.json").write_text(json.dumps(statistics))
