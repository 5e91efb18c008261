"""Settings that compute something: the learning-rate schedule, the conv precision."""

import pytest
import torch

from kungfu_rl import trainer
from kungfu_rl.config import Config


def test_linear_schedule_falls_to_zero_at_the_budget():
    c = Config(lr=1e-3, frames=1000, lr_schedule="linear").validate()
    assert c.lr_at(0) == pytest.approx(1e-3)
    assert c.lr_at(250) == pytest.approx(7.5e-4)
    assert c.lr_at(1000) == 0.0 and c.lr_at(1200) == 0.0
    constant = Config(lr=1e-3, frames=1000).validate()
    assert constant.lr_at(0) == constant.lr_at(999) == pytest.approx(1e-3)


def test_precision_auto_picks_bf16_only_where_the_hardware_has_it(monkeypatch):
    cpu = torch.device("cpu")
    assert trainer.pick_precision("fp32", cpu) == "fp32"
    assert trainer.pick_precision("bf16", cpu) == "bf16"
    for native, expected in ((True, "bf16"), (False, "fp32")):
        monkeypatch.setattr(trainer, "native_bf16", lambda device, native=native: native)
        assert trainer.pick_precision("auto", cpu) == expected
        agent = trainer.build_agent(Config(), (1, 42, 42), 14, cpu)
        assert agent.precision == expected
