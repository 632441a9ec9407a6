"""The one error a CLI user can fix: printed as one ``ossemu: error: ...`` line, exit 2."""


class UserError(Exception):
    """Bad arguments, paths, credentials or an unreachable endpoint: one line, no traceback."""
