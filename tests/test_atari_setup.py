"""The standard Atari set-up as choices: the papers' network, FIRE after a start or a lost
life, the whole screen, PPO's value clip and single-step minibatches, Adam's epsilon, a
learning rate that falls over a horizon of its own, and the preset that gathers them."""

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kungfu_rl.agent.networks import RecurrentAgent
from kungfu_rl.agent.pool import EnvPool
from kungfu_rl.algo import update as update_module
from kungfu_rl.algo.loss import clipped_policy_loss, value_loss
from kungfu_rl.algo.update import explained_variance, train_on_rollout
from kungfu_rl.config import Config, UpdateSettings
from kungfu_rl.config.presets import PRESETS
from kungfu_rl.envs.atari import AtariGame
from kungfu_rl.envs.games import GAME_CROPS, GameSettings
from kungfu_rl.runs.loading import build_agent, env_factory
from kungfu_rl.runs.payload import _network

# the DQN/A2C/PPO papers' network with 4 actions, as CleanRL's ppo_atari_envpool.py builds it:
# conv 4->32 8x8, 32->64 4x4, 64->64 3x3, dense 3136->512, policy 512->4, value 512->1
NATURE_PARAMETERS = (
    (4 * 32 * 64 + 32) + (32 * 64 * 16 + 64) + (64 * 64 * 9 + 64) + (3136 * 512 + 512) + 2052 + 513
)


def test_nature_network_is_the_papers_network():
    agent = RecurrentAgent(
        (4, 84, 84), 4, network="nature", core="none", hidden=512, init="orthogonal"
    )
    assert sum(p.numel() for p in agent.parameters()) == NATURE_PARAMETERS == 1_686_693
    kernels = [(m.kernel_size, m.stride) for m in agent.conv if isinstance(m, torch.nn.Conv2d)]
    assert kernels == [((8, 8), (4, 4)), ((4, 4), (2, 2)), ((3, 3), (1, 1))]
    _, (logits, value) = agent.step((), torch.zeros(3, 4, 84, 84, dtype=torch.uint8))
    assert logits.shape == (3, 4) and value.shape == (3,)


@pytest.mark.parametrize("core", ["lstm", "gru", "none"])
@pytest.mark.parametrize("shape", [(1, 42, 42), (4, 84, 84), (2, 84, 84)])
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_nature_network_takes_every_core_frame_size_stack_and_precision(core, shape, precision):
    agent = RecurrentAgent(shape, 6, network="nature", core=core, hidden=64, precision=precision)
    obs = torch.randint(0, 256, (5, 2, *shape), dtype=torch.uint8)  # [T, B, C, S, S]
    logits, values, _ = agent.unroll(obs, agent.get_initial_state(2), torch.ones(5, 2))
    assert logits.shape == (5, 2, 6) and values.shape == (5, 2)
    assert torch.isfinite(logits).all() and torch.isfinite(values).all()


def test_a_checkpoint_of_the_nature_network_is_checked_against_its_own_shapes():
    names, _ = _network("nature", "none", 512, 32, 4, 84, 4)
    assert names["conv.0.weight"] == (32, 4, 8, 8) and names["hid.weight"] == (512, 3136)
    notebook, _ = _network("notebook", "none", 512, 32, 4, 84, 4)
    assert notebook["conv.0.weight"] == (32, 16, 3, 3)  # the notebook's folds 84x84 to 42x42


def test_whole_screen_keeps_what_the_play_area_crops():
    assert GameSettings(game="Breakout").crop == GAME_CROPS["Breakout"]
    whole = (slice(None), slice(None))
    assert GameSettings(game="Breakout", area="none").crop == whole
    config = Config(game="Breakout", crop="none")
    assert env_factory(config)().settings.crop == whole


def test_scoreless_crops_every_suite_game_and_keeps_the_play_crops():
    from kungfu_rl.envs.games import SCORELESS_CROPS

    assert set(SCORELESS_CROPS) == {
        "KungFuMaster", "Pong", "Breakout", "Qbert", "SpaceInvaders", "BeamRider", "Seaquest"
    }  # fmt: skip
    for game, crop in GAME_CROPS.items():
        assert SCORELESS_CROPS[game] == crop
    game = env_factory(Config(game="Seaquest", crop="scoreless", frame_size=84).validate())()
    assert game.settings.crop == SCORELESS_CROPS["Seaquest"] != GameSettings("Seaquest").crop
    obs, _ = game.reset(seed=0)
    assert obs.shape == (1, 84, 84)
    game.close()


def _lives_over_noop_play(press_fire: bool, steps: int = 1500) -> list[int]:
    env = AtariGame(
        GameSettings(game="Breakout", repeat_action_probability=0.0, press_fire=press_fire)
    )
    env.reset(seed=0)
    lives = []
    for _ in range(steps):
        _, _, terminated, truncated, info = env.step(0)  # NOOP, always
        lives.append(info["lives"])
        if terminated or truncated:
            break
    env.close()
    return lives


def test_press_fire_serves_breakouts_ball_after_every_lost_life():
    # NOOP alone never serves: the ball waits and no life is lost
    assert set(_lives_over_noop_play(False)) == {5}
    # FIRE after the start and after each lost life: the paddle misses until the game ends
    lives = _lives_over_noop_play(True)
    assert lives[-1] == 0 and sorted(set(lives)) == [0, 1, 2, 3, 4, 5]


def test_pool_records_fire_as_the_action_after_a_start_and_a_lost_life():
    settings = GameSettings(game="Breakout", repeat_action_probability=0.0, press_fire=True)
    agent = RecurrentAgent((1, 42, 42), 4, core="none", hidden=16)
    with torch.no_grad():  # a policy that only ever picks NOOP
        agent.logits.weight.zero_()
        agent.logits.bias.copy_(torch.tensor([50.0, -50.0, -50.0, -50.0]))
    pool = EnvPool(agent, lambda: AtariGame(settings), n_parallel_games=2, seed=0)
    assert pool.fire == 1
    rollout = pool.play(400)
    actions, lost = rollout.actions[:, :-1], rollout.life_lost[:, :-1]  # [B, T]
    assert (actions[:, 0] == 1).all()  # the first step of each game
    b, t = np.nonzero(lost)
    assert len(t) > 0, "NOOP after a served ball should lose a life within 400 steps"
    inside = t + 1 < actions.shape[1]
    assert (actions[b[inside], t[inside] + 1] == 1).all()  # the step after a lost life
    fired = np.zeros_like(actions, dtype=bool)
    fired[:, 0] = True
    fired[b[inside], t[inside] + 1] = True
    ended = rollout.is_not_done[:, :-2] == 0  # a game that ended: the next step starts one
    fired[:, 1:] |= ended
    assert (actions[fired] == 1).all()
    assert (actions[~fired] == 0).all()  # every other step is the policy's NOOP
    np.testing.assert_array_equal(rollout.forced[:, :-1], fired)  # and each is marked forced
    pool.close()


def test_a_forced_step_the_policy_would_never_take_leaves_the_clipped_loss_as_without_it():
    """The pool's FIRE on a policy that gives it e^-30: its ratio would be e^30 on the side
    the clip leaves open (A < 0); with `chosen` the loss, its gradient and the measures of
    how far the policy moved are those of the chosen steps alone."""
    torch.manual_seed(0)
    logits = torch.randn(4, 3, 6, requires_grad=True)  # [T, B, A]
    actions = torch.randint(0, 6, (4, 3))
    advantages = torch.randn(4, 3)
    old = F.log_softmax(logits, -1).gather(-1, actions.unsqueeze(-1)).squeeze(-1).detach()
    old = old - 0.05  # the policy moved a little since it acted
    chosen = torch.ones(4, 3)
    chosen[2, 1] = 0
    actions[2, 1], old[2, 1], advantages[2, 1] = 1, -30.0, -2.0  # FIRE, pressed by the pool
    loss, moved = clipped_policy_loss(logits, actions, advantages, old, 0.1, chosen)
    assert moved["loss/approx_kl"] < 1 and loss.abs() < 10
    keep = chosen.bool()
    alone, alone_moved = clipped_policy_loss(
        logits[keep].unsqueeze(0), actions[keep][None], advantages[keep][None],
        old[keep][None], 0.1,
    )  # fmt: skip
    torch.testing.assert_close(loss, alone)
    assert moved == pytest.approx(alone_moved)
    (grad,) = torch.autograd.grad(loss, logits)
    assert torch.equal(grad[2, 1], torch.zeros(6))  # the forced step pushes nothing
    _, unmasked_moved = clipped_policy_loss(logits, actions, advantages, old, 0.1)
    assert unmasked_moved["loss/approx_kl"] > 1e10  # the size Q*bert's diverged run logged


def _after_one_ppo_update(actions: np.ndarray, forced: np.ndarray | None) -> torch.Tensor:
    rng = np.random.default_rng(0)
    B, T = 2, 6
    obs = rng.integers(0, 256, (B, T + 1, 4, 84, 84), dtype=np.uint8)
    rewards = rng.choice([0.0, 1.0], (B, T + 1)).astype(np.float32)
    mask = np.ones((B, T + 1), np.float32)
    torch.manual_seed(0)
    agent = RecurrentAgent((4, 84, 84), 4, network="nature", core="none", hidden=32)
    optimizer = torch.optim.Adam(agent.parameters(), lr=1e-3)
    settings = Config(**{**PRESETS["atari"], "game": "Breakout"}).update_settings
    torch.manual_seed(1)  # the minibatches' order
    train_on_rollout(agent, optimizer, obs, actions, rewards, mask, (), settings, forced=forced)
    return torch.cat([p.detach().flatten() for p in agent.parameters()])


def test_the_update_learns_nothing_from_the_action_of_a_forced_step():
    actions = np.random.default_rng(2).integers(0, 4, (2, 7))
    forced = np.zeros((2, 7), np.float32)
    forced[:, 0] = forced[1, 3] = 1  # FIRE at each game's start and after a lost life
    other = actions.copy()
    other[forced == 1] = (other[forced == 1] + 1) % 4  # another action at those steps only
    # the policy is trained on the steps it chose: what was pressed for it changes nothing
    torch.testing.assert_close(
        _after_one_ppo_update(actions, forced), _after_one_ppo_update(other, forced)
    )
    # without the marks the pressed actions are learned from: the same change shows
    assert not torch.equal(_after_one_ppo_update(actions, None), _after_one_ppo_update(other, None))


def test_clipped_value_loss_by_hand():
    values = torch.tensor([[1.5, 0.0]])
    old = torch.tensor([[1.0, 0.0]])
    returns = torch.tensor([[2.0, 1.0]])
    # step 0: unclipped (1.5-2)^2 = 0.25, kept 1.0+0.1 -> (1.1-2)^2 = 0.81: the larger, 0.81
    # step 1: V did not move: both (0-1)^2 = 1
    assert value_loss(values, returns, old, clip_range=0.1).item() == pytest.approx(
        (0.81 + 1.0) / 2
    )
    assert value_loss(values, returns).item() == pytest.approx((0.25 + 1.0) / 2)


def test_explained_variance():
    returns = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert explained_variance(returns, returns) == pytest.approx(1.0)
    assert explained_variance(torch.full_like(returns, 2.5), returns) == pytest.approx(0.0)
    assert np.isnan(explained_variance(returns, torch.ones_like(returns)))


def test_minibatches_of_single_steps_take_each_step_once_per_pass():
    T, B = 6, 4
    obs = torch.arange(T * B).view(T, B, 1, 1, 1).float()  # each step its own number
    replay = update_module._Replay(obs, obs, obs, obs, obs, ())
    batches = update_module._minibatches(replay, T, B, 5, single_steps=True)
    seen = torch.cat([take(obs).flatten() for take, _ in batches])
    shapes = [tuple(take(obs).shape[:2]) for take, _ in batches]
    assert shapes == [(1, 5), (1, 5), (1, 5), (1, 5), (1, 4)]  # 24 steps in 5 shares
    assert sorted(seen.tolist()) == list(range(T * B)) and len(batches) == 5
    games = update_module._minibatches(
        replay._replace(memory=(torch.zeros(B, 3),)), T, B, 2, single_steps=False
    )
    assert [take(obs).shape[:2] for take, _ in games] == [(T, 2), (T, 2)]  # whole games
    assert [m[0].shape for _, m in games] == [(2, 3), (2, 3)]


def test_ppo_update_without_memory_learns_and_averages_its_metrics():
    torch.manual_seed(0)
    agent = RecurrentAgent((1, 42, 42), 3, network="nature", core="none", hidden=32)
    optimizer = torch.optim.Adam(agent.parameters(), lr=1e-3, eps=1e-5)
    B, T = 4, 9
    obs = torch.randint(0, 256, (B, T, 1, 42, 42), dtype=torch.uint8)
    actions, rewards = torch.randint(0, 3, (B, T)), torch.randn(B, T)
    settings = UpdateSettings(
        reward_mode="clip", epochs=2, minibatches=3, clip_value=True, minibatch_steps=True
    )
    assert settings.clipped
    before = [p.detach().clone() for p in agent.parameters()]
    metrics = train_on_rollout(
        agent, optimizer, obs, actions, rewards, torch.ones(B, T), (), settings
    )
    assert any(not torch.equal(a, p) for a, p in zip(before, agent.parameters(), strict=True))
    for key in ("loss/total", "loss/value", "loss/clip_fraction", "loss/explained_variance"):
        assert np.isfinite(metrics[key])
    assert metrics["loss/skipped"] == 0.0


def test_lr_falls_over_its_own_horizon():
    c = Config(lr=1.0, lr_schedule="linear", frames=5_000_000, lr_decay_frames=40_000_000)
    assert c.lr_at(0) == 1.0
    assert c.lr_at(5_000_000) == pytest.approx(1 - 5 / 40)
    assert Config(lr=1.0, lr_schedule="linear", frames=10).lr_at(5) == pytest.approx(0.5)


def test_cleanrl_setup_preset_builds_cleanrls_agent_and_game():
    c = Config.from_preset("cleanrl-setup", game="Breakout").validate()
    assert (c.n_games, c.rollout_len, c.epochs, c.minibatches) == (8, 128, 4, 4)
    settings = c.update_settings
    assert settings.clip_value and settings.clipped and settings.value_coef == 0.25
    assert settings.minibatch_steps
    game = env_factory(c)()
    assert game.observation_space.shape == (4, 84, 84) and game.fire == 1
    assert game.settings.crop == (slice(None), slice(None))
    agent = build_agent(c, (4, 84, 84), 4, torch.device("cpu"))
    assert sum(p.numel() for p in agent.parameters()) == NATURE_PARAMETERS
    assert agent.precision == "fp32" and agent.rnn is None
    game.close()


def test_adam_epsilon_reaches_the_optimizer(tmp_path):
    from kungfu_rl.training.trainer import Trainer

    config = Config(
        game="Breakout",
        frames=2 * 4 * 4,
        n_games=2,
        rollout_len=4,
        hidden=16,
        channels=8,
        eval_every=0,
        runs_dir=str(tmp_path),
        run_name="run",
        torch_threads=1,
        env_threads=1,
        adam_eps=1e-5,
    ).validate()
    (tmp_path / "run").mkdir()
    trainer = Trainer(config, tmp_path / "run")
    assert trainer.optimizer.param_groups[0]["eps"] == 1e-5
    trainer.pool.close()


def test_minibatch_steps_needs_a_network_without_memory():
    from kungfu_rl.config import ConfigError

    with pytest.raises(ConfigError, match="--minibatch-steps needs --core none"):
        Config(minibatch_steps=True).validate()
    Config(minibatch_steps=True, core="none").validate()


def test_atari_preset_is_cleanrls_setup_under_the_suites_protocol():
    """Only the sticky actions differ; the rate falls over 40M frames at any budget, so a
    10M run is the first quarter of a 40M one (what `suite.py --extend` relies on)."""
    atari = Config.from_preset("atari", game="Qbert", frames=10_000_000).validate()
    cleanrl = Config.from_preset("cleanrl-setup", game="Qbert", frames=10_000_000).validate()
    differ = {
        f.name
        for f in dataclasses.fields(Config)
        if getattr(atari, f.name) != getattr(cleanrl, f.name)
    }
    assert differ == {"preset", "sticky_actions"}
    assert atari.sticky_actions == Config().sticky_actions == 0.25
    longer = dataclasses.replace(atari, frames=40_000_000)
    assert atari.lr_at(5_000_000) == longer.lr_at(5_000_000) == pytest.approx(2.5e-4 * 7 / 8)


def test_a_game_but_kungfu_master_starts_from_the_atari_preset_unless_a_preset_is_named():
    from kungfu_rl.config import GAME_PRESET
    from kungfu_rl.envs.game_preset import with_game_preset

    KUNGFU = "KungFuMaster"
    assert Config().game == KUNGFU and GAME_PRESET == "atari"
    given, said = with_game_preset({"game": "Qbert", "frames": 1_000})
    assert given == {"game": "Qbert", "frames": 1_000, "preset": "atari"}
    assert said.startswith("Qbert: --preset atari, the standard Atari agent")
    assert "docs/peers.md" in said and said.endswith(
        "--preset none trains the notebook's agent instead"
    )
    for kept in ({}, {"game": KUNGFU}, {"game": "Qbert", "preset": "none"}, {"preset": "long"}):
        assert with_game_preset(kept) == (kept, None)  # make train learns as it always has
    for spelt in ("kung_fu_master", "ALE/KungFuMaster-v5", "KungFuMastr"):  # or no game
        assert with_game_preset({"game": spelt}) == ({"game": spelt}, None)
    given, said = with_game_preset({"game": "ALE/Qbert-v5"})
    assert given == {"game": "ALE/Qbert-v5", "preset": "atari"} and said.startswith("Qbert: ")


def test_kungfu_train_on_another_game_says_its_preset_first(tmp_path):
    from test_cli import kungfu

    flags = "--game Breakout --frames 64 --n-games 2 --rollout-len 8 --eval-games 1"
    result = kungfu("train", *flags.split(), "--runs-dir", tmp_path, "--run-name", "b")
    assert result.returncode == 0, result.stderr
    first, second = result.stderr.splitlines()[:2]
    assert first.startswith("Breakout: --preset atari, the standard Atari agent")
    assert second.startswith(f"training in {tmp_path / 'b'}")
    config = Config.from_json((tmp_path / "b" / "config.json").read_text())
    assert (config.preset, config.network, config.core, config.frame_size) == (
        "atari",
        "nature",
        "none",
        84,
    )
    assert (config.n_games, config.rollout_len) == (2, 8)  # a flag given beside it still wins


def test_the_trainer_hands_the_pools_forced_steps_to_the_update(tmp_path, monkeypatch):
    from kungfu_rl.training import trainer as trainer_module

    seen = {}

    def capture(*args, forced=None, **kwargs):
        seen["forced"] = forced
        return {"loss/skipped": 0.0}

    monkeypatch.setattr(trainer_module, "train_on_rollout", capture)
    config = Config(
        game="Breakout", press_fire=True, n_games=2, rollout_len=4, hidden=16, channels=8,
        eval_every=0, runs_dir=str(tmp_path), run_name="run", torch_threads=1, env_threads=1,
    ).validate()  # fmt: skip
    (tmp_path / "run").mkdir()
    trainer = trainer_module.Trainer(config, tmp_path / "run")
    trainer.iterate()
    trainer.pool.close()
    assert seen["forced"].shape == (2, 5)
    assert (seen["forced"][:, 0] == 1).all()  # each game's first step: FIRE, pressed
