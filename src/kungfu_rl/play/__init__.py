"""Full games played by a trained agent: evaluation, its statistics and records, videos."""
