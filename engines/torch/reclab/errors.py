"""The worker's error kinds and their exit codes (h11 worker interface: 0 ok/stopped, 1 failure during a run, 2 bad input)."""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


class BadInput(Exception):
    """Bad config, bad data or weights file, torch too old, a device that is not there: exit 2, nothing written."""
