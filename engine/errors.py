"""Errors the engine raises for input it refuses; every front-end shows their message as is.

The command line maps them to exit code 1 (cli.main); the pages show them in the user's
language where the error carries a catalogue code (ImportRejected, BackupRejected, …).
"""


class InputRejected(Exception):
    """Input refused (a missing file, a date outside the data, a model that cannot be fitted);
    the message says which and why."""
