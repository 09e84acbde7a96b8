"""The calendar channel: a user's host schedule ↔ one remote calendar."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from calsync.backends import (
    CalendarBackend,
    CreateEvent,
    DeleteEvent,
    EventWrite,
    RemoteEvent,
    UpdateEvent,
    WriteResult,
)
from calsync.engine.actions import Action, CreateHost, CreateRemote, DeleteHost, Update
from calsync.engine.channel import ChannelAdapter, ChannelSnapshot, HostWrite, RunContext, digest
from calsync.engine.fields import decode_base
from calsync.engine.planner import (
    UNLINKED,
    HostRecord,
    PlanRules,
    RemoteRecord,
    Snapshot,
)
from calsync.ids import event_id_for
from calsync.model import Channel, EventFields, Marker, ScheduleItem, TimeRange
from calsync.sources import ItemUpdate, ScheduleSource, Unreadable
from calsync.state.base import MappingRow

__all__ = ["CalendarSync", "check_item"]

logger = logging.getLogger(__name__)

#: Google's limits on event text (characters); longer items are reported, never sent.
MAX_TITLE = 1024
MAX_DESCRIPTION = 8192


def check_item(fields: EventFields) -> str | None:
    """Why ``fields`` cannot be sent, or ``None`` when they can."""
    if fields.when is None:
        return "it has no date or time"
    if len(fields.title) > MAX_TITLE:
        return f"its title is longer than {MAX_TITLE} characters"
    if len(fields.description) > MAX_DESCRIPTION:
        return f"its description is longer than {MAX_DESCRIPTION} characters"
    return None


class CalendarSync(ChannelAdapter):
    """The calendar channel of one profile."""

    channel = Channel.CALENDAR

    def __init__(self, ctx: RunContext, source: ScheduleSource, backend: CalendarBackend) -> None:
        super().__init__(ctx)
        self.source = source
        self.backend = backend
        profile = ctx.profile
        if profile.calendar_id is None:
            raise ValueError("the calendar channel needs a calendar")
        self.calendar_id = profile.calendar_id
        self.user_id = profile.user_id
        self.options = profile.options
        self.window: TimeRange = self.options.window.resolve(ctx.now)
        self.templates_tag = digest(self.options.templates.digest())
        self.invalid: set[str] = set()
        self.warnings: list[str] = []

    def config_digest(self) -> str:
        options = self.options
        return digest(
            self.calendar_id, options.inbound_calendar, options.window, self.templates_tag
        )

    def rules(self) -> PlanRules:
        options = self.options
        namespace = self.profile_id
        return PlanRules(
            channel=self.channel,
            namespace=namespace,
            inbound=options.inbound_calendar,
            field_rules=options.field_rules,
            conflict_policy=options.conflict_policy,
            deletion_rules=options.deletion_rules,
            remote_id_for=lambda host_id: event_id_for(namespace, host_id),
        )

    # -- snapshot ------------------------------------------------------------------------

    def snapshot(self, mapping: Mapping[str, MappingRow], full: bool) -> ChannelSnapshot:
        host, host_deleted, host_cursor, host_complete = self._read_host(full)
        listing = self.backend.list_events(
            self.calendar_id, self.window, None if full else self.cursor("remote")
        )
        self.warnings.extend(listing.warnings)
        if listing.restarted:
            logger.info("calendar %s listed in full: %s", self.calendar_id, listing.restarted)
        remote = {event.id: self.remote_record(event) for event in listing.items}
        forgotten: dict[str, str] = {}
        if listing.complete:
            self._confirm_remote_absences(mapping, remote, forgotten)
        if host_complete:
            self._confirm_host_absences(mapping, host, host_deleted, forgotten)
        self._resolve_unmapped(mapping, host, host_deleted, remote)
        snapshot = Snapshot(host, frozenset(host_deleted), remote, forgotten)
        return ChannelSnapshot(snapshot, host_cursor, listing.cursor, tuple(self.warnings))

    def _read_host(self, full: bool) -> tuple[dict[str, HostRecord], set[str], str | None, bool]:
        cursor = None if full else self.cursor("host")
        if cursor is not None:
            try:
                changes = self.source.changes_since(self.user_id, cursor)
            except LookupError:
                logger.info("host change cursor for %s expired; listing in full", self.user_id)
            else:
                return self._records(changes.changed), set(changes.deleted), changes.cursor, False
        new_cursor = self.source.change_cursor(self.user_id)
        items = self.source.list_items(self.user_id, self.window)
        return self._records(items), set(), new_cursor, True

    def _records(self, items: Iterable[ScheduleItem | Unreadable]) -> dict[str, HostRecord]:
        records: dict[str, HostRecord] = {}
        for item in items:
            if isinstance(item, Unreadable):
                self.invalid.add(item.id)
                self.warnings.append(f"item {item.id} could not be read: {item.reason}")
                continue
            record = self.host_view(item)
            problem = check_item(record.view)
            if problem is not None:
                self.invalid.add(item.id)
                self.warnings.append(f"{item.kind.value} {item.id} was not sent: {problem}")
                continue
            records[item.id] = record
        return records

    def host_view(self, item: ScheduleItem) -> HostRecord:
        """The planner's record of a host item: its fields rendered through the templates."""
        revision = f"{item.revision}:{self.templates_tag}" if item.revision is not None else None
        return HostRecord(
            id=item.id,
            kind=item.kind.value,
            view=self.options.templates.render(item),
            revision=revision,
            updated=item.updated,
            replaces=item.replaces,
            origin=item.remote_id,
        )

    def _confirm_remote_absences(
        self,
        mapping: Mapping[str, MappingRow],
        remote: dict[str, RemoteRecord],
        forgotten: dict[str, str],
    ) -> None:
        for row in mapping.values():
            if row.remote_id in remote:
                continue
            if self._left_window(row):
                forgotten[row.host_id] = "it left the sync window"
                continue
            event = self.backend.get_event(self.calendar_id, row.remote_id)
            remote[row.remote_id] = (
                self.remote_record(event)
                if event is not None
                else RemoteRecord(row.remote_id, "", None, deleted=True)
            )

    def _confirm_host_absences(
        self,
        mapping: Mapping[str, MappingRow],
        host: dict[str, HostRecord],
        deleted: set[str],
        forgotten: dict[str, str],
    ) -> None:
        replaced = {record.replaces for record in host.values() if record.replaces}
        missing = [
            host_id
            for host_id, row in mapping.items()
            if host_id not in host and host_id not in replaced and host_id not in self.invalid
        ]
        to_check = []
        for host_id in missing:
            if self._left_window(mapping[host_id]):
                forgotten[host_id] = "it left the sync window"
            else:
                to_check.append(host_id)
        self._confirm_host_ids(to_check, host, deleted)

    def _confirm_host_ids(
        self, host_ids: list[str], host: dict[str, HostRecord], deleted: set[str]
    ) -> None:
        if not host_ids:
            return
        found = self.source.get_items(self.user_id, host_ids)
        for host_id in host_ids:
            item = found.get(host_id)
            if item is None:
                deleted.add(host_id)
            else:
                host.update(self._records([item]))

    def _left_window(self, row: MappingRow) -> bool:
        when = decode_base(row.base, EventFields).when
        return when is not None and self.window.ends_before(when)

    def _resolve_unmapped(
        self,
        mapping: Mapping[str, MappingRow],
        host: dict[str, HostRecord],
        host_deleted: set[str],
        remote: dict[str, RemoteRecord],
    ) -> None:
        """Fetch what adoption needs: host items named by our markers, remote origins."""
        mapped_remote = {row.remote_id for row in mapping.values()}
        claimed = [
            r.marker.host_id
            for r in remote.values()
            if r.marker is not None
            and r.marker.namespace == self.profile_id
            and r.id not in mapped_remote
            and r.marker.host_id not in host
            and r.marker.host_id not in host_deleted
        ]
        self._confirm_host_ids(claimed, host, host_deleted)
        for record in list(host.values()):
            origin = record.origin
            if record.id in mapping or origin is None or origin in remote:
                continue
            if origin in mapped_remote:
                continue
            event = self.backend.get_event(self.calendar_id, origin)
            if event is not None:
                remote[origin] = self.remote_record(event)

    def remote_record(self, item: Any) -> RemoteRecord:
        event: RemoteEvent = item
        return RemoteRecord(
            id=event.id,
            etag=event.etag,
            view=event.fields,
            marker=event.marker,
            deleted=event.deleted,
            updated=event.updated,
        )

    def fetch_remote(self, remote_id: str) -> RemoteRecord | None:
        event = self.backend.get_event(self.calendar_id, remote_id)
        return self.remote_record(event) if event is not None else None

    # -- writes --------------------------------------------------------------------------

    @property
    def remote_batch_size(self) -> int:
        return self.backend.batch_size

    def write_remote(self, actions: Sequence[Action]) -> list[WriteResult[Any]]:
        writes = [self._event_write(action) for action in actions]
        return list(self.backend.write_events(self.calendar_id, writes))

    def _event_write(self, action: Action) -> EventWrite:
        if isinstance(action, CreateRemote):
            remote_id = action.remote_id or event_id_for(self.profile_id, action.host_id)
            return CreateEvent(remote_id, action.fields, Marker(self.profile_id, action.host_id))
        if isinstance(action, Update):
            marker = None if action.kind == UNLINKED else Marker(self.profile_id, action.host_id)
            return UpdateEvent(action.remote_id, action.fields, marker, action.etag)
        return DeleteEvent(action.remote_id, action.etag)  # type: ignore[union-attr]

    def create_host(self, action: CreateHost) -> HostWrite:
        item = self.source.create_unlinked(self.user_id, action.fields, action.remote_id)
        return self._host_write(item, action.fields)

    def update_host(self, action: Update) -> HostWrite:
        update = ItemUpdate(action.fields, action.to_host)
        item = self.source.update_item(self.user_id, action.host_id, update)
        return self._host_write(item, action.fields)

    def delete_host(self, action: DeleteHost) -> None:
        self.source.delete_item(self.user_id, action.host_id)

    def _host_write(self, item: ScheduleItem, expected: EventFields) -> HostWrite:
        record = self.host_view(item)
        # A host that stored something else (truncated, reformatted) gets no trusted revision,
        # so the next run compares content and sends the host's version out once.
        revision = record.revision if record.view == expected else None
        return HostWrite(item.id, revision, record.view, record.kind)
