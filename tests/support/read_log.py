"""A SQLite store in memory that notes every read of mapping rows a run makes."""

from __future__ import annotations

from collections.abc import Collection

from calsync import SqliteStateStore
from calsync.model import Channel
from calsync.state import MappingHead, MappingRow


class ReadLog(SqliteStateStore):
    """Notes each read of mapping rows, in order, in ``reads``: ``"rows"`` (every whole row),
    ``"heads"``, ``"revisions"``, and ``"rows of [host ids] [remote ids]"`` (whole rows by
    id), with the host ids each of those found in ``whole_reads``."""

    def __init__(self) -> None:
        super().__init__(":memory:")
        self.reads: list[str] = []
        self.whole_reads: list[set[str]] = []

    def forget_reads(self) -> None:
        self.reads, self.whole_reads = [], []

    def mappings(self, profile_id: str, channel: Channel) -> dict[str, MappingRow]:
        self.reads.append("rows")
        return super().mappings(profile_id, channel)

    def mapping_heads(self, profile_id: str, channel: Channel) -> dict[str, MappingHead]:
        self.reads.append("heads")
        return super().mapping_heads(profile_id, channel)

    def mapping_revisions(self, profile_id: str, channel: Channel) -> dict[str, str | None]:
        self.reads.append("revisions")
        return super().mapping_revisions(profile_id, channel)

    def mappings_of(
        self,
        profile_id: str,
        channel: Channel,
        host_ids: Collection[str] = (),
        remote_ids: Collection[str] = (),
    ) -> dict[str, MappingRow]:
        self.reads.append(f"rows of {sorted(host_ids)} {sorted(remote_ids)}")
        found = super().mappings_of(profile_id, channel, host_ids, remote_ids)
        self.whole_reads.append(set(found))
        return found
