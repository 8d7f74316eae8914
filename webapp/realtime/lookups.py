"""Database look-ups of sockets, off the thread that runs the process's views.

Channels' database_sync_to_async runs every call on the one thread where daphne runs
the synchronous views too, so in a burst of submissions a socket's handshake waits
behind the queue of POSTs, and daphne resets a handshake that waits past its connect
timeout. A socket's look-ups are short reads that share no transaction with anything,
so they run on the event loop's thread pool instead; each call still closes (returns
to the pool) the connection it used, like every database_sync_to_async call.
"""

from channels.db import database_sync_to_async


def socket_lookup(func):
    """database_sync_to_async on the loop's thread pool (not thread-sensitive)."""
    return database_sync_to_async(func, thread_sensitive=False)
