"""Exponential backoff with jitter, shared by the network clients."""

import random


def backoff_delay(attempt, base, cap):
    """Seconds to wait after failed attempt number `attempt` (1-based).

    base * 2^(attempt-1), capped, then "equal jitter": half of it fixed, half random, so
    several workers retrying the same outage do not hammer the server in step.
    """
    if base <= 0:
        return 0.0
    delay = min(cap, base * (2 ** (attempt - 1)))
    return delay / 2 + random.uniform(0, delay / 2)
