"""The calendar channel: a user's host schedule ↔ one remote calendar.

What it adds to the channel core: the sync window (items that leave it are forgotten, not
deleted), templates (the host item's view is rendered), deterministic event ids, the rule that
only ordinary events (type ``default``) are ever studio items, and the calendar switch:

**A calendar switch is a new pairing.** The mapping belongs to the calendar it was made with.
When the profile names another calendar, nothing is inferred from the old calendar's mapping
in the new one: the old mapping is dropped (a dry run only pretends to), the schedule is
written to the new calendar (adopting events that already carry our deterministic ids, so
switching back never duplicates), and unlinked appointments that came from the old calendar
stay in the studio untouched. calsync's events in the old calendar are left as they are,
unless ``cleanup_old_calendar`` is on: then the events calsync provably made there are deleted,
and nothing else: those under the deterministic id of a host item they were mapped to, or of
one whose create was journaled there, read first and deleted (on the etag read) only when live
and carrying calsync's marker for that item, as anyone may make an event under such an id. A
calendar is known by the id it has for the account connected now
(:meth:`~calsync.backends.CalendarBackend.calendar_identity`): when the profile names Google's
``primary`` and the user connects another account, that is a switch too, never a mass
deletion of the first account's events.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from itertools import islice

import attrs

from calsync.backends import (
    CalendarBackend,
    CreateEvent,
    DeleteEvent,
    EventWrite,
    RemoteEvent,
    RemoteListing,
    UpdateEvent,
    WriteResult,
)
from calsync.engine.actions import (
    Action,
    CreateHost,
    CreateRemote,
    DeleteHost,
    DeleteRemote,
    Update,
)
from calsync.engine.channel import ChannelAdapter
from calsync.engine.context import (
    FATAL,
    ChannelSnapshot,
    HostWrite,
    MappingLoader,
    RunContext,
    digest,
)
from calsync.engine.fields import decode_base
from calsync.engine.plans import PlanRules
from calsync.engine.reads import answer_of, listing_of
from calsync.engine.records import HostRecord, RemoteRecord, Snapshot
from calsync.errors import BackendError, CalendarGone, CalsyncError
from calsync.ids import event_id_for
from calsync.model import (
    Channel,
    EventFields,
    Marker,
    RecordKind,
    ScheduleItem,
    Timed,
    TimeRange,
)
from calsync.sources import HostChanges, ItemUpdate, ScheduleSource, Unreadable
from calsync.state.base import MappingHead, MappingRow

__all__ = ["ORDINARY_EVENT_TYPE", "CalendarSync", "check_item"]

logger = logging.getLogger(__name__)

#: Google's limits on event text (characters); longer items are reported, never sent.
MAX_TITLE = 1024
MAX_DESCRIPTION = 8192
#: The only remote event type that is ever a studio item (out of office, focus time, working
#: location, birthdays and the like never are, whatever the backend lists).
ORDINARY_EVENT_TYPE = "default"
#: How many paired events an installation that recorded Google's ``primary`` itself looks
#: for in the calendar ``primary`` names now, to tell its own account from another.
PAIRS_LOOKED_FOR = 5


def check_item(fields: EventFields, *, text_limits: bool = True) -> str | None:
    """Why ``fields`` cannot be sent, or ``None`` when they can. ``text_limits``: hold the
    title and description to :data:`MAX_TITLE` and :data:`MAX_DESCRIPTION`."""
    if fields.when is None:
        return "it has no date or time"
    if text_limits and len(fields.title) > MAX_TITLE:
        return f"its title is longer than {MAX_TITLE} characters"
    if text_limits and len(fields.description) > MAX_DESCRIPTION:
        return f"its description is longer than {MAX_DESCRIPTION} characters"
    if isinstance(fields.when, Timed) and not fields.when.has_wall_times():
        return (
            f"its times cannot be written in its time zone {fields.when.zone}: there they "
            "fall before year 1 or after year 9999"
        )
    return None


class CalendarSync(ChannelAdapter[EventFields, ScheduleItem, RemoteEvent]):
    """The calendar channel of one profile."""

    channel = Channel.CALENDAR
    fields_cls = EventFields

    def __init__(self, ctx: RunContext, source: ScheduleSource, backend: CalendarBackend) -> None:
        super().__init__(ctx)
        self.source = source
        self.backend = backend
        profile = ctx.profile
        if profile.calendar_id is None:
            raise ValueError("the calendar channel needs a calendar")
        self.calendar_id = profile.calendar_id
        self.options = profile.options
        self.window: TimeRange = self.options.window.resolve(ctx.now)
        self.templates_tag = digest(self.options.templates.digest())
        self._listed_in_full = False

    def config_digest(self) -> str:
        options = self.options
        return digest(
            self.calendar_id, options.inbound_calendar, options.window, self.templates_tag
        )

    # -- the window as days pass -----------------------------------------------------------
    #
    # Google's sync token and a host change feed list only what changed: an item the window
    # reaches as days pass (made beyond it, or a series' later instance) would never be
    # listed. The window as resolved when both sides were last listed in full is kept (its
    # own cursor, recorded once such a run has applied what it read, whatever failed in it:
    # a held deletion or an item Google keeps refusing must not make every run a full one);
    # the first run of each (UTC) day lists both sides in full.

    def needs_full_listing(self) -> bool:
        return super().needs_full_listing() or self._window_moved()

    def _window_moved(self) -> bool:
        return self.cursors.stored.listed_window != self._window_key()

    def _window_key(self) -> str:
        return f"{self.window.start.isoformat()}/{self.window.end.isoformat()}"

    def snapshot(self, rows: MappingLoader, full: bool) -> ChannelSnapshot[EventFields]:
        self._listed_in_full = full
        taken = super().snapshot(rows, full)
        lost = self._lost_to_the_restore(taken.snapshot, taken.mapping)
        if not lost:
            return taken
        return attrs.evolve(taken, snapshot=self.bring_back_lost(taken.snapshot, lost))

    def _lost_to_the_restore(
        self, snapshot: Snapshot[EventFields], mapping: Mapping[str, MappingHead]
    ) -> dict[str, str]:
        """The unlinked appointments (the Google user's events, come into the studio) that a
        studio gone back in time lost, by host id, with their event's id: the plan makes
        them again from the event
        (:meth:`~calsync.engine.channel.ChannelAdapter.bring_back_lost`). Not one whose event
        is gone from Google too (the pair is forgotten) or left the window, nor one whose
        event, or whose place, an item the studio has now takes (made again already, by a
        run that stopped before recording it; or converted: that item takes the pair back).
        Only with inbound calendar sync (the plan makes appointments from events only
        then)."""
        if not snapshot.host_rewound or not self.options.inbound_calendar:
            return {}
        taken = {record.origin for record in snapshot.host.values()}
        taken.update(record.replaces for record in snapshot.host.values())
        lost: dict[str, str] = {}
        for host_id in sorted(snapshot.host_deleted):
            head = mapping.get(host_id)
            if head is None or head.kind is not RecordKind.UNLINKED:
                continue
            if head.remote_id in taken or host_id in taken or host_id in snapshot.forgotten:
                continue
            remote = snapshot.remote.get(head.remote_id)
            if remote is not None and (remote.deleted or not remote.in_scope):
                continue
            etag = remote.etag if remote is not None else head.remote_etag
            if etag is not None:
                lost[host_id] = head.remote_id
        return lost

    def commit_cursors(
        self, snapshot: ChannelSnapshot[EventFields], *, advance_host: bool, advance_remote: bool
    ) -> None:
        super().commit_cursors(snapshot, advance_host=advance_host, advance_remote=advance_remote)
        if self._listed_in_full and self.cursors.stored.listed_window != self._window_key():
            self.ctx.store.set_listed_window(self.profile_id, self._window_key())

    def rules(self) -> PlanRules[EventFields]:
        options = self.options
        namespace = self.profile_id
        return PlanRules(
            channel=self.channel,
            fields_cls=EventFields,
            namespace=namespace,
            inbound=options.inbound_calendar,
            field_rules=options.field_rules,
            conflict_policy=options.conflict_policy,
            deletion_rules=options.deletion_rules,
            remote_id_for=lambda host_id: event_id_for(namespace, host_id),
        )

    # -- the calendar switch -------------------------------------------------------------

    def prepare(self) -> bool:
        store, pid = self.ctx.store, self.profile_id
        paired = self.cursors.stored.paired_calendar  # (read with the cursors)
        # the calendar the id names now: Google's ``primary`` names another calendar once the
        # user connects another account, and that is a switch (its events are not deleted)
        identity = self.backend.calendar_identity(self.calendar_id)
        if paired is None or paired == identity:
            if paired is None and not self.ctx.dry_run:
                store.set_paired_calendar(pid, identity)
            return False
        # the alias itself, as recorded before identities: the account it named then is not
        # known, and may not be the one connected now (checked once, by a few of its events)
        legacy = paired == self.calendar_id
        # an alias the backend could not resolve now (a token without the calendar list):
        # the calendar may well be the one paired, which only its events can tell (checked
        # every run while it lasts: the first paired event found ends the check)
        unresolved = identity in self.backend.calendar_aliases
        if (legacy or unresolved) and self._pairs_found_in_calendar():
            if legacy and not self.ctx.dry_run:
                store.set_paired_calendar(pid, identity)
            return False
        now = identity if identity == self.calendar_id else f"{self.calendar_id} ({identity})"
        if legacy:  # (the alias names the new calendar now: nothing to clean through it)
            self.warnings.append(
                f"the calendar {paired} is now {now}, another account's: the schedule is "
                f"written to {now}; the events in the first account's calendar are left as "
                "they are"
            )
        elif unresolved:  # (the first account's calendar is out of this token's reach)
            self.warnings.append(
                f"the calendar {now} is not {paired} any more (none of its events is there: "
                f"another account is connected): the schedule is written to {now}; the "
                f"events in {paired} are left as they are"
            )
        else:
            self.warnings.append(
                f"the calendar changed from {paired} to {now}: the schedule is written to "
                f"{now}; "
                + (
                    f"calsync's events in {paired} are removed"
                    if self.options.cleanup_old_calendar
                    else f"the events in {paired} are left as they are"
                )
            )
        if self.ctx.dry_run:
            return True
        if self.options.cleanup_old_calendar and not (legacy or unresolved):
            self._clean_old_calendar(paired)
        store.forget_channel(pid, self.channel)
        store.set_paired_calendar(pid, identity)
        self.cursors.forget()
        # (a calendar's id may be its owner's address: only at DEBUG)
        logger.info("profile %s: calendar switched; the schedule goes to the new one", pid)
        logger.debug("profile %s: calendar %s, then %s", pid, paired, self.calendar_id)
        return True

    def _pairs_found_in_calendar(self) -> bool:
        """Whether the calendar holds (live or deleted) any of a few paired events, or there
        are none to look for: then the pairs belong to it."""
        heads = self.ctx.store.mapping_heads(self.profile_id, self.channel)
        sample = [head.remote_id for head in islice(heads.values(), PAIRS_LOOKED_FOR)]
        return not sample or any(
            self.backend.get_event(self.calendar_id, remote_id) is not None for remote_id in sample
        )

    def _clean_old_calendar(self, calendar_id: str) -> None:
        """Delete from the old calendar the events calsync provably made there, and nothing
        else. The candidates are the events under calsync's deterministic id of a host item:
        of one paired with that id (of any kind: an unlinked appointment written there after
        an earlier switch was made by calsync, one that came from a Google event keeps
        Google's id), and of one whose create was journaled and never recorded (a crash came
        between). An id proves nothing on its own: anyone who may write to a shared calendar
        can make an event under it (calsync then made the item's under an id Google chose).
        So each candidate is read, and deleted only when it is live and carries calsync's
        marker for that item, on the etag read (an event changed since is left). The event a
        journaled create made under an id Google chose is left: only a listing of the old
        calendar could find it, and its marker alone cannot tell it from a user's copy."""
        store, pid = self.ctx.store, self.profile_id
        host_ids = {
            head.host_id
            for head in store.mapping_heads(pid, self.channel).values()
            if head.remote_id == event_id_for(pid, head.host_id)
        }
        host_ids.update(store.pending(pid, self.channel))
        try:
            ours, foreign, unread = self._events_made_in(calendar_id, sorted(host_ids))
            results: list[WriteResult[RemoteEvent]] = []
            if ours:
                with self.ctx.remote_writes():  # the lease is checked before each request
                    results = self.backend.write_events(calendar_id, ours)
        except CalendarGone:
            return  # the old calendar is gone already: nothing left to clean
        except CalsyncError as exc:
            self.warnings.append(f"calsync's events in {calendar_id} were not removed: {exc}")
            return
        failed = sum(result.error is not None for result in results)
        if ours:
            self.warnings.append(
                f"removed {len(ours) - failed} of calsync's events from {calendar_id}"
            )
        if failed:
            self.warnings.append(
                f"{failed} of calsync's events in {calendar_id} could not be removed"
            )
        if foreign:
            self.warnings.append(
                f"events left in {calendar_id} under calsync's ids, which calsync cannot "
                f"prove it made: {foreign}"
            )
        if unread:
            self.warnings.append(
                f"events left in {calendar_id} under calsync's ids, which could not be read: "
                f"{unread}"
            )

    def _events_made_in(
        self, calendar_id: str, host_ids: Sequence[str]
    ) -> tuple[list[DeleteEvent], int, int]:
        """The deletes (each on the etag read) of the live events in ``calendar_id`` under
        calsync's ids for ``host_ids`` that carry calsync's marker for their item; how many
        live ones do not (someone else made them); how many could not be read."""
        pid = self.profile_id
        deletes: list[DeleteEvent] = []
        foreign = unread = 0
        for host_id in host_ids:
            event_id = event_id_for(pid, host_id)
            try:
                event = self.backend.get_event(calendar_id, event_id)
            except FATAL:
                raise
            except BackendError as exc:
                unread += 1
                logger.warning("profile %s: could not read event %s: %s", pid, event_id, exc)
                continue
            if event is None or event.deleted:
                continue  # (never made, or gone already: a series made of it reads so too)
            if event.marker != Marker(pid, host_id):
                foreign += 1
                logger.info("profile %s: event %s is not calsync's: left", pid, event_id)
                continue
            deletes.append(DeleteEvent(event_id, event.etag))
        return deletes, foreign, unread

    # -- reading -------------------------------------------------------------------------

    def host_cursor(self) -> str | None:
        return self.source.change_cursor(self.user_id)

    def host_changes(self, cursor: str) -> HostChanges[ScheduleItem | Unreadable]:
        return self.source.changes_since(self.user_id, cursor)

    def host_listing(self) -> Iterable[ScheduleItem | Unreadable]:
        return listing_of(self.source.list_items(self.user_id, self.window), "list_items")

    def host_items(self, host_ids: Sequence[str]) -> Mapping[str, ScheduleItem | Unreadable]:
        return self.source.get_items(self.user_id, host_ids)

    def host_revision(self, item: ScheduleItem) -> str | None:
        # the templates are part of what Google shows: a template change is a change
        return f"{item.revision}:{self.templates_tag}" if item.revision is not None else None

    def host_record(self, item: ScheduleItem) -> HostRecord[EventFields]:
        """The planner's record of a host item: its fields rendered through the templates."""
        revision = self.host_revision(item)
        return HostRecord(
            id=item.id,
            kind=RecordKind.of(item.kind),
            view=self.options.templates.render(item),
            revision=revision,
            updated=item.updated,
            replaces=item.replaces,
            origin=item.remote_id,
        )

    def refuse(self, record: HostRecord[EventFields]) -> str | None:
        # an unlinked appointment's text is the Google user's, which Google took: it goes
        # back as it is, whatever its length (else a studio edit of its time never would)
        return check_item(record.view, text_limits=record.kind is not RecordKind.UNLINKED)

    def list_remote(self, cursor: str | None) -> RemoteListing[RemoteEvent]:
        # a listing may write (Google's backend repairs a split series' markers): checked as
        # the run's writes are, so a runner that lost its lease in a wait sends nothing
        with self.ctx.remote_writes():
            listing = self.backend.list_events(
                self.calendar_id, self.window, cursor, read_only=self.ctx.dry_run
            )
        if listing.restarted:
            restarted = listing.restarted
            logger.info("profile %s: calendar listed in full: %s", self.profile_id, restarted)
        return listing

    def get_remote(self, remote_id: str) -> RemoteEvent | None:
        return self.backend.get_event(self.calendar_id, remote_id)

    def accepts(self, item: RemoteEvent) -> bool:
        return item.deleted or item.event_type == ORDINARY_EVENT_TYPE

    def remote_record(self, item: RemoteEvent) -> RemoteRecord[EventFields]:
        return RemoteRecord(
            id=item.id,
            etag=item.etag,
            view=item.fields,
            marker=item.marker,
            deleted=item.deleted,
            updated=item.updated,
            in_scope=item.deleted or item.event_type == ORDINARY_EVENT_TYPE,
        )

    def in_scope_and_readable(self, item: RemoteEvent) -> bool:
        return (
            not item.deleted and item.event_type == ORDINARY_EVENT_TYPE and item.fields is not None
        )

    def made_by_us(self, remote_id: str, marker: Marker) -> bool:
        return remote_id == event_id_for(self.profile_id, marker.host_id)

    def intended_remote_id(self, host_id: str) -> str | None:
        return event_id_for(self.profile_id, host_id)

    def chosen_id(self, namespace: str, host_id: str) -> str | None:
        return event_id_for(namespace, host_id)

    def outside_listing(self, record: RemoteRecord[EventFields]) -> bool:
        when = record.view.when if record.view is not None else None
        return when is not None and not self.window.overlaps(when)

    def left_window(self, row: MappingRow) -> bool:
        when = decode_base(row.base, EventFields).when
        return when is not None and self.window.ends_before(when)

    # -- writes --------------------------------------------------------------------------

    @property
    def remote_batch_size(self) -> int:
        return self.backend.batch_size

    def write_remote(
        self, actions: Sequence[Action[EventFields]]
    ) -> list[WriteResult[RemoteEvent]]:
        writes = [self._event_write(action) for action in actions]
        return list(self.backend.write_events(self.calendar_id, writes))

    def _event_write(self, action: Action[EventFields]) -> EventWrite:
        if isinstance(action, CreateRemote):
            remote_id = action.remote_id or event_id_for(self.profile_id, action.host_id)
            return CreateEvent(remote_id, action.fields, Marker(self.profile_id, action.host_id))
        if isinstance(action, Update):
            unlinked = action.kind is RecordKind.UNLINKED
            marker = None if unlinked else Marker(self.profile_id, action.host_id)
            return UpdateEvent(action.remote_id, action.fields, marker, action.etag)
        if isinstance(action, DeleteRemote):
            return DeleteEvent(action.remote_id, action.etag)
        raise TypeError(f"not a remote write: {action.describe()}")

    def create_host(self, action: CreateHost[EventFields]) -> HostWrite[EventFields]:
        answer = self.source.create_unlinked(self.user_id, action.fields, action.remote_id)
        item = answer_of(answer, ScheduleItem, "create_unlinked")
        return self._host_write(item, action.fields)

    def update_host(self, action: Update[EventFields]) -> HostWrite[EventFields]:
        update = ItemUpdate(action.fields, action.to_host)
        item = self.source.update_item(self.user_id, action.host_id, update)
        return self._host_write(answer_of(item, ScheduleItem, "update_item"), action.fields)

    def delete_host(self, action: DeleteHost) -> None:
        self.source.delete_item(self.user_id, action.host_id)

    def _host_write(self, item: ScheduleItem, expected: EventFields) -> HostWrite[EventFields]:
        record = self.host_record(item)
        # A host that stored something else (truncated, reformatted) gets no trusted revision,
        # so the next run compares content and sends the host's version out once.
        revision = record.revision if record.view == expected else None
        return HostWrite(item.id, revision, record.view, record.kind)
