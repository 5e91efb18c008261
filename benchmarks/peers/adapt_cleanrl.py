"""Adapt CleanRL's own ``ppo_atari_envpool.py`` to gymnasium 1.x, envpool 1.2 and this machine.

The peer's script is read from a checkout of ``vwxyzjn/cleanrl`` and written, changed, to a
scratch folder outside this package; none of its code is kept in this repository. Each
adaptation is one exact text replacement that must match exactly once, so a changed upstream
script fails loudly instead of being half-adapted::

    python benchmarks/peers/adapt_cleanrl.py CLEANRL_CHECKOUT/cleanrl/ppo_atari_envpool.py OUT.py

The adaptations (docs/peers.md says the same in its own order; the wrapper that records
each game's score holds the env instead of subclassing ``gym.Wrapper``, which does not take
a vector env in gymnasium):

1. ``import gym`` -> ``import gymnasium as gym``: envpool 1.2's ``env_type="gym"`` returns a
   gymnasium vector env, and gym 0.x does not install beside NumPy 2.
2. ``envs.reset()`` returns ``(obs, info)`` in gymnasium's API: the script keeps ``obs``.
3. ``step`` returns ``(obs, reward, terminated, truncated, info)``: the script's ``done`` is
   ``terminated | truncated``, which is what envpool's old four-tuple API called ``done``.
4. ``--stop-frames N`` stops the run after N game frames (agent steps x 4) while the
   learning-rate schedule still runs over ``--total-timesteps``; the default (0) never stops
   early.
5. The three lines that set ``envs.num_envs``, ``envs.single_action_space`` and
   ``envs.single_observation_space`` are dropped: envpool 1.2's env has all three already, as
   read-only properties with the same values.
6. Each finished game's score is also written as ``frames,score`` to ``--curve-csv`` (the
   script prints it only to stdout and TensorBoard).
7. ``--checkpoint PATH`` saves the network, Adam, the iteration and the random states every
   20 iterations (write, then rename) and resumes from PATH when it exists, so that a run
   longer than one sitting of this machine can be continued; at a resume the curve keeps
   the games that had ended by the checkpoint. The games start afresh at a resume
   (envpool's emulators cannot be saved): the games under way then are left out of the
   curve.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPLACEMENTS: list[tuple[str, str]] = [
    ("import gym\n", "import gymnasium as gym\n"),
    (
        "        observations, rewards, dones, infos = super().step(action)\n",
        "        observations, rewards, terminated, truncated, infos = self.env.step(action)\n"
        "        dones = np.logical_or(terminated, truncated)\n",
    ),
    (
        "        observations = super().reset(**kwargs)\n",
        "        observations, _ = self.env.reset(**kwargs)\n",
    ),
    (
        "class RecordEpisodeStatistics(gym.Wrapper):\n"
        "    def __init__(self, env, deque_size=100):\n"
        "        super().__init__(env)\n",
        "class RecordEpisodeStatistics:\n    def __init__(self, env, deque_size=100):\n"
        "        self.env = env\n"
        "        self.action_space = env.action_space\n"
        "        self.single_action_space = env.single_action_space\n"
        "        self.single_observation_space = env.single_observation_space\n"
        "        self.close = env.close\n",
    ),
    (
        "    envs.num_envs = args.num_envs\n"
        "    envs.single_action_space = envs.action_space\n"
        "    envs.single_observation_space = envs.observation_space\n",
        "",
    ),
    (
        "    num_iterations: int = 0\n",
        "    num_iterations: int = 0\n"
        '    stop_frames: int = 0\n    """stop after this many game frames (0: never early)"""\n'
        '    curve_csv: str = ""\n    """write frames,score of each finished game here"""\n'
        '    checkpoint: str = ""\n    """save here every 20 iterations; resume from it"""\n',
    ),
    (
        "    for iteration in range(1, args.num_iterations + 1):\n",
        "    first_iteration = 1\n"
        "    if args.checkpoint and os.path.exists(args.checkpoint):\n"
        "        saved = torch.load(args.checkpoint, weights_only=False)\n"
        "        agent.load_state_dict(saved['agent'])\n"
        "        optimizer.load_state_dict(saved['optimizer'])\n"
        "        first_iteration, global_step = saved['iteration'] + 1, saved['global_step']\n"
        "        random.setstate(saved['random'])\n"
        "        np.random.set_state(saved['numpy'])\n"
        "        torch.set_rng_state(saved['torch'])\n"
        "        print(f'resumed at global_step={global_step}')\n"
        "    curve = None\n"
        "    if args.curve_csv:\n"
        "        kept = []\n"
        "        if first_iteration > 1 and os.path.exists(args.curve_csv):\n"
        "            rows = open(args.curve_csv).read().splitlines()[1:]\n"
        "            kept = [r for r in rows if int(r.split(',')[0]) <= global_step * 4]\n"
        "        curve = open(args.curve_csv, 'w', buffering=1)\n"
        "        curve.write('frames,score\\n' + ''.join(r + '\\n' for r in kept))\n"
        "    for iteration in range(first_iteration, args.num_iterations + 1):\n"
        "        if args.stop_frames and global_step * 4 >= args.stop_frames:\n"
        "            break\n",
    ),
    (
        '                    avg_returns.append(info["r"][idx])\n',
        '                    avg_returns.append(info["r"][idx])\n'
        "                    if curve:\n"
        "                        curve.write(f\"{global_step * 4},{info['r'][idx]}\\n\")\n",
    ),
    (
        '        writer.add_scalar("charts/SPS", int(global_step / (time.time() - start_time)),'
        " global_step)\n",
        '        writer.add_scalar("charts/SPS", int(global_step / (time.time() - start_time)),'
        " global_step)\n"
        "        if args.checkpoint and iteration % 20 == 0:\n"
        "            state = {'agent': agent.state_dict(), 'optimizer': optimizer.state_dict(),\n"
        "                     'iteration': iteration, 'global_step': global_step,\n"
        "                     'random': random.getstate(), 'numpy': np.random.get_state(),\n"
        "                     'torch': torch.get_rng_state()}\n"
        "            torch.save(state, args.checkpoint + '.tmp')\n"
        "            os.replace(args.checkpoint + '.tmp', args.checkpoint)\n",
    ),
]


def adapt(text: str) -> str:
    """The script with every replacement made; SystemExit if one does not match exactly once."""
    for old, new in REPLACEMENTS:
        count = text.count(old)
        if count != 1:
            raise SystemExit(f"adapt_cleanrl: expected one {old.strip()[:60]!r}, found {count}")
        text = text.replace(old, new)
    return text


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: adapt_cleanrl.py PPO_ATARI_ENVPOOL_PY OUT_PY", file=sys.stderr)
        return 2
    source, out = Path(argv[0]), Path(argv[1])
    out.write_text(adapt(source.read_text()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
