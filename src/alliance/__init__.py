"""Alliance: measure, monitor and strengthen the therapeutic alliance."""

__version__ = "0.1.0"
