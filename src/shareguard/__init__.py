"""ShareGuard: stop personal data leaving unless an agreement allows it."""

__version__ = "0.1.0"
