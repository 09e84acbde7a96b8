"""Helpers of ``examples/server.py``: the studios it serves (``server_host.studios``)."""
