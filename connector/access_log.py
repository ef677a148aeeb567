"""Masked access logs on every server we document (issue 17).

* ``cti serve``: werkzeug's request lines go through the process's scrubbing handler
  (:func:`connector.logs.configure_logging`).
* gunicorn: its access log (``--access-logfile``, also ``--log-config`` and syslog) is written
  by gunicorn's own handlers on the ``gunicorn.access`` logger, past our handler. The WSGI
  entry point (:mod:`connector.wsgi`) therefore puts :class:`ScrubbingFilter` on that logger
  and on ``gunicorn.error``: every atom of every line — request line, path, query string,
  referrer, user agent, headers — is scrubbed like our own records before any handler
  formats it. Nothing to add to the gunicorn command line.

A logger's filters survive gunicorn's log re-opening (``SIGUSR1``) and reloads: gunicorn
replaces its handlers only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from .logs import Scrubber

GUNICORN_LOGGERS = ("gunicorn.access", "gunicorn.error")


class ScrubbingFilter(logging.Filter):
    """Scrubs a record's arguments (a gunicorn atoms mapping, or a tuple) and its message."""

    def __init__(self, scrubber: Scrubber) -> None:
        super().__init__()
        self.scrub = scrubber

    def filter(self, record: logging.LogRecord) -> bool:
        args: Any = record.args
        if isinstance(args, dict):
            for key, value in list(args.items()):
                if isinstance(value, str):
                    args[key] = self.scrub(value)  # in place: keeps gunicorn's SafeAtoms
        elif isinstance(args, tuple):
            record.args = tuple(self.scrub(a) if isinstance(a, str) else a for a in args)
        if isinstance(record.msg, str):
            record.msg = self.scrub(record.msg)
        return True


def mask_gunicorn_logs(secrets: Iterable[str] = ()) -> ScrubbingFilter:
    """Install (once; a second call replaces it) the filter on gunicorn's loggers."""
    scrub_filter = ScrubbingFilter(Scrubber(secrets))
    for name in GUNICORN_LOGGERS:
        logger = logging.getLogger(name)
        for old in [f for f in logger.filters if isinstance(f, ScrubbingFilter)]:
            logger.removeFilter(old)
        logger.addFilter(scrub_filter)
    return scrub_filter
