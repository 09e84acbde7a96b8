"""A memory store that reads a channel's rows as a database store does: heads only (no base).

The engine must read the whole row of every pair it acts on (``MappingLoader.complete``);
with this store a pair it forgot would fail the run, where the plain memory store (whole rows
throughout) would hide it. A run with a full host listing reads its revisions first and its
heads only when something changed, as with a database store. The state machines run on it.
"""

from __future__ import annotations

from calsync.model import Channel
from calsync.state import MappingHead, MemoryStateStore, StoredHead


class HeadsStore(MemoryStateStore):
    """:class:`MemoryStateStore` whose ``mapping_heads`` leaves the bases out, and which
    :attr:`reads_revisions` first, as the database stores do (from its heads)."""

    reads_revisions = True

    def mapping_heads(self, profile_id: str, channel: Channel) -> dict[str, MappingHead]:
        return {
            host_id: StoredHead(
                row.host_id, row.remote_id, row.kind, row.host_revision, row.remote_etag
            )
            for host_id, row in self.mappings(profile_id, channel).items()
        }
