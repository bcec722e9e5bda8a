"""The `alliance` command: a thin shell over the core (and over the web app for server commands)."""
