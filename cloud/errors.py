"""One exception root for the reference cloud, with specific leaves."""


class CloudError(Exception):
    """Root of every error the reference cloud raises on purpose."""


class TokenError(CloudError):
    """An enrollment token that is unknown, already used or expired."""


class UnknownBranch(CloudError):
    """A branch with no config yet."""


class BadConfig(CloudError):
    """A config file that cannot be served to devices."""


class ConfigConflict(BadConfig):
    """A branch config saved from an older version than the one stored (someone else saved meanwhile)."""
