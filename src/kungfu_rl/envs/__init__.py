"""Atari games: names, crops, the one observation preprocessing, the single and vector envs."""
