"""The in-memory channel layer, with its expiry sweep rationed.

Channels' InMemoryChannelLayer looks at every channel and every group membership for
expired entries on each send, group_send and receive, so with N open sockets every
relayed event costs O(N) twice and CPU grows with sockets x events. Messages expire
after a minute and memberships after a day: one sweep a second honours both.
"""

import time

from channels import layers


class InMemoryChannelLayer(layers.InMemoryChannelLayer):
    sweep_every = 1.0  # seconds

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._next_sweep = 0.0

    def _clean_expired(self):
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.sweep_every
            super()._clean_expired()
