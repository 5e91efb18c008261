"""An agent that remembers what it was given and what it answered while acting."""

from kungfu_rl.agent.networks import RecurrentAgent


class RecordingAgent(RecurrentAgent):
    """RecurrentAgent whose `step` keeps the memory it was handed and the logits it gave."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.memories_in = []  # per step: the memory tuple, each tensor [B, hidden]
        self.logits_out = []  # per step: [B, A]

    def step(self, prev_state, obs_t):
        new_state, (logits, values) = super().step(prev_state, obs_t)
        self.memories_in.append(tuple(m.clone() for m in prev_state))
        self.logits_out.append(logits.clone())
        return new_state, (logits, values)
