"""Exceptions shared by the engine and the network seams (below both, importing neither)."""


class StopStep(Exception):  # noqa: N818  (a signal, not an error of the step's code)
    """Stop the running step early with a message (e.g. the daily API limit is used up).

    Raised by a step, or by a client whose quota is used up. What was done so far stands;
    what was not stays pending for the next cycle.
    """
