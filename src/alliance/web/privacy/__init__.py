"""Privacy: a client's data exported in one document, or erased under a pseudonym."""
