"""Domain errors of the web application.

Services raise these when a request breaks a business rule; views turn them into a
form error or a clear page. The message is written for the person using the site.
"""


class DomainError(Exception):
    """A business rule said no; `str(error)` is a message for the user."""
