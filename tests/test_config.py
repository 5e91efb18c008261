"""Settings that compute something: the learning-rate schedule."""

import pytest

from kungfu_rl.config import Config


def test_linear_schedule_falls_to_zero_at_the_budget():
    c = Config(lr=1e-3, frames=1000, lr_schedule="linear").validate()
    assert c.lr_at(0) == pytest.approx(1e-3)
    assert c.lr_at(250) == pytest.approx(7.5e-4)
    assert c.lr_at(1000) == 0.0 and c.lr_at(1200) == 0.0
    constant = Config(lr=1e-3, frames=1000).validate()
    assert constant.lr_at(0) == constant.lr_at(999) == pytest.approx(1e-3)
