"""Keeping discord.py's bookkeeping of its rate-limit buckets cheap when a broadcast sends to many DM channels."""

from __future__ import annotations

import discord.http


class AmortizedBucketExpiry:
    """discord.py's look for idle rate-limit buckets, made only when the buckets have doubled since the last.

    discord.py keeps a bucket per channel and, once it holds 256, looks through all of them for
    ones idle five minutes each time it makes a new one. A broadcast makes one per DM channel, so
    each send looked through every channel sent to in the last five minutes: quadratic (18 s of CPU
    for 10,000 DMs, and a 100,000 one could not keep its pace). Looking when the count has doubled
    evicts the same buckets, a little later, at a constant cost per send.
    """

    def __init__(self, http: discord.http.HTTPClient) -> None:
        self._http = http
        self._look = http._try_clear_expired_ratelimits  # noqa: SLF001  # discord.py's own eviction, kept as is
        self._at = 0

    def __call__(self) -> None:
        """Evict idle buckets if their count has doubled since the last look."""
        if len(self._http._buckets) < self._at:  # noqa: SLF001  # as above
            return
        self._look()
        self._at = 2 * len(self._http._buckets)  # noqa: SLF001  # as above


def amortize_bucket_expiry(http: discord.http.HTTPClient) -> None:
    """Make ``http`` look for idle buckets only when their count has doubled (see ``AmortizedBucketExpiry``)."""
    http._try_clear_expired_ratelimits = AmortizedBucketExpiry(http)  # type: ignore[method-assign]  # noqa: SLF001  # per client
