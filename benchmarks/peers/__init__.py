"""A peer's own code, run from a scratch environment beside the package: CleanRL's PPO."""
