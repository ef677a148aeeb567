"""Jobs that fail on purpose, for tests of how failures show (imported by real workers too)."""

import os
import signal


def explode(number: str) -> None:
    """A job that raises, with a phone number in its message (it must be masked when shown)."""
    raise ValueError(f"cannot handle {number}")


def die() -> None:
    """A job whose process is killed, as the kernel's OOM killer would."""
    os.kill(os.getpid(), signal.SIGKILL)
