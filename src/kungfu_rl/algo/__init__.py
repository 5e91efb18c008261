"""Learning from a rollout: returns and advantages, reward handling, the losses, the update."""
