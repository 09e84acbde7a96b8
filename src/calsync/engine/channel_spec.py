"""What each channel provides to the channel core: its host calls, its backend calls and its
scope rules. :class:`~calsync.engine.channel.ChannelAdapter` is the skeleton built on them;
:mod:`calsync.engine.calendar` and :mod:`calsync.engine.contacts` implement them.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from typing import Generic

from calsync.backends import RemoteListing, WriteResult
from calsync.engine.actions import Action, CreateHost, DeleteHost, Update
from calsync.engine.context import H, HostWrite, R
from calsync.engine.plans import PlanRules
from calsync.engine.records import F, HostRecord, RemoteRecord
from calsync.model import Marker
from calsync.sources import HostChanges, Unreadable
from calsync.state.base import MappingRow

__all__ = ["ChannelSpec"]


class ChannelSpec(abc.ABC, Generic[F, H, R]):
    """The calls one channel makes on the host and the remote side, and its rules."""

    @abc.abstractmethod
    def config_digest(self) -> str:
        """A digest of the options the cursors depend on; a change forces a full listing."""

    @abc.abstractmethod
    def rules(self) -> PlanRules[F]:
        """The planner's rules for this channel."""

    @abc.abstractmethod
    def host_cursor(self) -> str | None:
        """The host's change-feed position, taken before a full listing."""

    @abc.abstractmethod
    def host_changes(self, cursor: str) -> HostChanges[H | Unreadable]:
        """What changed in the host since ``cursor`` (``LookupError``: list in full)."""

    @abc.abstractmethod
    def host_listing(self) -> Iterable[H | Unreadable]:
        """Every host item in the channel's scope."""

    @abc.abstractmethod
    def host_items(self, host_ids: Sequence[str]) -> Mapping[str, H | Unreadable]:
        """The host items among ``host_ids`` that still exist (wherever they are)."""

    @abc.abstractmethod
    def host_record(self, item: H) -> HostRecord[F]:
        """The planner's record of a host item."""

    @abc.abstractmethod
    def host_revision(self, item: H) -> str | None:
        """The revision a host item's record carries (cheap: nothing is rendered), so an
        item at its recorded revision is skipped without building its record."""

    def refuse(self, record: HostRecord[F]) -> str | None:
        """Why a host item cannot be sent (it is reported and skipped), or ``None``."""
        return None

    @abc.abstractmethod
    def list_remote(self, cursor: str | None) -> RemoteListing[R]:
        """The remote listing: in full without ``cursor``, else the changes since."""

    @abc.abstractmethod
    def get_remote(self, remote_id: str) -> R | None:
        """One remote item (a tombstone when deleted), or ``None`` when there is none."""

    @abc.abstractmethod
    def remote_record(self, item: R) -> RemoteRecord[F]:
        """The planner's record of a remote item (ownership is proven by the core)."""

    def accepts(self, item: R) -> bool:
        """Whether a listed remote item belongs to this channel at all."""
        return True

    @abc.abstractmethod
    def in_scope_and_readable(self, item: R) -> bool:
        """Whether ``item`` is live, in the channel's scope and has fields: the only kind of
        item its recorded etag proves unchanged (the core then builds no record of it)."""

    @abc.abstractmethod
    def made_by_us(self, remote_id: str, marker: Marker) -> bool:
        """Whether calsync provably created ``remote_id`` for ``marker``'s host item (beyond
        a journaled intent, which the core checks)."""

    def intended_remote_id(self, host_id: str) -> str | None:
        """The remote id a journaled create for ``host_id`` used, when the channel chooses
        ids (calendar); ``None`` when the remote side chooses them (contacts)."""
        return None

    def chosen_id(self, namespace: str, host_id: str) -> str | None:
        """The remote id calsync chooses for that profile's host item, when the channel
        chooses ids (calendar); ``None`` when the remote side chooses them (contacts)."""
        return None

    def left_window(self, row: MappingRow) -> bool:
        """Whether a mapped pair left the channel's scope in time (not a deletion)."""
        return False

    @property
    @abc.abstractmethod
    def remote_batch_size(self) -> int:
        """How many remote writes the backend takes at once."""

    @abc.abstractmethod
    def write_remote(self, actions: Sequence[Action[F]]) -> list[WriteResult[R]]:
        """Perform the remote writes of ``actions``, one result each, in order."""

    @abc.abstractmethod
    def create_host(self, action: CreateHost[F]) -> HostWrite[F]:
        """Create the host item for a remote-made item."""

    @abc.abstractmethod
    def update_host(self, action: Update[F]) -> HostWrite[F]:
        """Apply the host part of ``action``."""

    @abc.abstractmethod
    def delete_host(self, action: DeleteHost) -> None:
        """Delete (or ungroup) a host item."""
