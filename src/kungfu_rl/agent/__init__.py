"""The agent: its networks, their memory, and the pool of games it plays."""
