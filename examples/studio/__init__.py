"""A small studio-management host on SQLite: the reference for embedding calsync.

``studio.db`` is the studio's own database layer and knows nothing about calsync;
``studio.adapters`` maps it onto calsync's host contracts; ``studio.seed`` fills a demo studio.
"""
