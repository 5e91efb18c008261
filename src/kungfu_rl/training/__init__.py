"""A training run: the loop, its saved state, evaluation during training, launch, distribution."""
