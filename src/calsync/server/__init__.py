"""The hosted deployment (myStratus): PostgreSQL, encrypted tokens, Redis and Celery.

Everything under ``calsync.server`` needs the ``server`` extra (``pip install
'calsync[server]'``); the core never imports it. See ``docs/server.md``.

* :mod:`calsync.server.database` — a psycopg 3 connection pool on one schema, counting queries.
* :mod:`calsync.server.tokens` — :class:`~calsync.server.tokens.PostgresTokenStore`, tokens
  encrypted at rest.

Beside it, also in the extra: :mod:`calsync.state.postgres` (the PostgreSQL state store),
:mod:`calsync.google.redis_pacing` (one quota across processes), :mod:`calsync.celery` (the
worker tasks) and :mod:`calsync.metrics` (Prometheus).
"""

from __future__ import annotations
