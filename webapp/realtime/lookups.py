"""Database look-ups of sockets, on the event loop's thread pool.

Channels' database_sync_to_async is thread-sensitive by default: every call of the
process runs on one shared thread, one after another, so in a burst of handshakes a
socket would wait for all the look-ups queued before its own (daphne resets a
handshake that waits past its connect timeout). A socket's look-ups are short reads
that share no transaction with anything, so they run on the loop's thread pool
instead; each call still closes (returns to the pool) the connection it used, like
every database_sync_to_async call. HTTP requests have their own threads
(webapp/core/http_threads.py).
"""

from channels.db import database_sync_to_async


def socket_lookup(func):
    """database_sync_to_async on the loop's thread pool (not thread-sensitive)."""
    return database_sync_to_async(func, thread_sensitive=False)
