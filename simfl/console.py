"""How simfl's log warnings reach the terminal: one ``warning: ...`` line each on stderr.

Library code reports what a user should know but that does not stop the work (a cache that
cannot be written, a scenario whose results may not mean much) through the ``simfl``
logger; the command line and its worker processes install this printer.
"""

from __future__ import annotations

import logging
import sys

_NAME = "simfl-console"


class _WarningPrinter(logging.Handler):
    """Print each record as ``warning: <message>`` on the current ``sys.stderr``."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"warning: {record.getMessage()}", file=sys.stderr)


def install_warning_printer() -> None:
    """Print the ``simfl`` logger's warnings on stderr (once, however often it is called)."""
    log = logging.getLogger("simfl")
    if not any(h.get_name() == _NAME for h in log.handlers):
        printer = _WarningPrinter(logging.WARNING)
        printer.set_name(_NAME)
        log.addHandler(printer)
        log.propagate = False
