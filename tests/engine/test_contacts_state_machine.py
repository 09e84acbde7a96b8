"""A hypothesis state machine over the contacts channel.

Random studio edits (clients added, edited, taken out of a group, deleted, the sync group
switched between two groups), random Google edits (contacts made in a group, edited, deleted,
taken out of the group, copies carrying our marker), failing and crashing writes (contacts
have remote-chosen ids: a crash between a create and its record is settled by the journaled
intent), expired sync tokens. After every
clean sync: both sides agree under the mapping, no duplicate contacts, no client of the studio
ever deleted, no Google contact deleted that calsync did not provably make, and a re-run
writes nothing.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from heads_store import HeadsStore
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule
from machines import machine_settings
from studio_world import GROUP, USER, World, client, make_world

from calsync import (
    ContactFields,
    Marker,
    TransientError,
    google_wins,
    host_wins,
    newest_wins,
)
from calsync.engine import channel
from calsync.model import Channel, Email
from calsync.testing import SimulatedCrash

NS = "studio.u7"
POLICIES = {"host_wins": host_wins, "google_wins": google_wins, "newest": newest_wins | host_wins}
NAMES = st.sampled_from(["Ann", "Ben", "Cara", "Dev", "Eve"])
NOTES = st.sampled_from(["", "Call after 5", "VIP", "Prefers email"])
#: the studio's two client groups; the sync group is one of them and can be switched
GROUPS = (GROUP, "Portraits")
REMOTE_WRITES = ["create_contact", "update_contact", "delete_contact", "write_contacts"]


class ContactsMachine(RuleBasedStateMachine):
    clients = Bundle("clients")

    def __init__(self) -> None:
        super().__init__()
        self.world: World = make_world(
            HeadsStore(), contacts=True, client_group=GROUP, inbound_contacts=True
        )
        self.counter = 0
        #: studio clients ever made (calsync never deletes a studio client)
        self.studio_made: set[str] = set()
        self.studio_deleted: set[str] = set()
        #: Google contacts made by the Google user (never deleted unless mapped, or by the user)
        self.google_made: set[str] = set()
        self.google_deleted: set[str] = set()
        self.ever_mapped: set[str] = set()
        #: copies of our contacts carrying our marker, made in Google
        self.copies: set[str] = set()
        self.group = GROUP  # the sync group
        #: contacts a crashed create made, not recorded yet; and those of them the sync group
        #: was switched away from before a run found them (a known limit: People cannot
        #: search by calsync's marker, so the new group gets the client's contact anew, and
        #: switching back puts both in the group: left and named)
        self.unrecorded: set[str] = set()
        self.lost_to_a_switch: set[str] = set()
        self.long_feed = channel.LONG_FEED  # (set back at the teardown)

    def teardown(self) -> None:
        channel.LONG_FEED = self.long_feed

    @initialize(
        policy=st.sampled_from(sorted(POLICIES)),
        batch=st.sampled_from([1, 2, 50]),
        feed=st.booleans(),
        long_feed=st.sampled_from([1, channel.LONG_FEED]),
    )
    def choose(self, policy: str, batch: int, feed: bool, long_feed: int) -> None:
        self.world.options(conflict_policy=POLICIES[policy])
        self.batch = batch
        self.world.clients.change_feed = feed
        # how many items a feed names before every row's head is read: from one on, the
        # runs over change feeds that name more than a quarter of the pairs take that path
        self.long_feed, channel.LONG_FEED = channel.LONG_FEED, long_feed

    # -- the studio ----------------------------------------------------------------------

    @rule(target=clients, given=NAMES, groups=st.sets(st.sampled_from(GROUPS)))
    def studio_adds_a_client(self, given: str, groups: set[str]) -> str:
        self.counter += 1
        contact_id = f"c{self.counter}"
        self.world.clients.add(USER, client(contact_id, given, f"F{self.counter}"), sorted(groups))
        self.studio_made.add(contact_id)
        return contact_id

    @rule(contact_id=clients, notes=NOTES, given=NAMES)
    def studio_edits_a_client(self, contact_id: str, notes: str, given: str) -> None:
        if contact_id in self.world.clients.contacts(USER):
            self.world.clients.edit(USER, contact_id, notes=notes, given_name=given)

    @rule(contact_id=clients, join=st.booleans(), group=st.sampled_from(GROUPS))
    def studio_moves_a_client(self, contact_id: str, join: bool, group: str) -> None:
        source = self.world.clients
        if contact_id not in source.contacts(USER):
            return
        if join:
            source.add_to_group(USER, group, contact_id)
        else:
            source.remove_from_group_by_user(USER, group, contact_id)

    @rule()
    def studio_switches_the_sync_group(self) -> None:
        self.lost_to_a_switch |= self.unrecorded
        self.group = GROUPS[1 - GROUPS.index(self.group)]
        self.world.options(client_group=self.group)

    @rule(contact_id=clients)
    def studio_deletes_a_client(self, contact_id: str) -> None:
        if contact_id in self.world.clients.contacts(USER):
            self.world.clients.remove(USER, contact_id)
            self.studio_deleted.add(contact_id)

    # -- Google --------------------------------------------------------------------------

    @rule(given=NAMES, group=st.sampled_from(GROUPS))
    def google_user_adds_a_contact_to_a_group(self, given: str, group: str) -> None:
        self.counter += 1
        fields = ContactFields(given_name=given, family_name=f"G{self.counter}")
        made = self.world.contacts.external_create(fields, groups=[group])
        self.google_made.add(made.id)

    @rule(data=st.data(), notes=NOTES)
    def google_user_edits_a_contact(self, data: st.DataObject, notes: str) -> None:
        live = sorted(self.world.contacts.contacts())
        if live:
            contact_id = data.draw(st.sampled_from(live))
            self.world.contacts.external_update(
                contact_id, notes=notes, emails=(Email(f"{notes[:3].lower() or 'x'}@ex.com"),)
            )

    @rule(data=st.data())
    def google_user_deletes_a_contact(self, data: st.DataObject) -> None:
        live = sorted(self.world.contacts.contacts())
        if live:
            contact_id = data.draw(st.sampled_from(live))
            self.world.contacts.external_delete(contact_id)
            self.google_deleted.add(contact_id)

    @rule(data=st.data())
    def google_user_ungroups_a_contact(self, data: st.DataObject) -> None:
        members = sorted(self.world.contacts.contacts(self.group))
        if members:
            contact_id = data.draw(st.sampled_from(members))
            self.world.contacts.external_remove_from_group(contact_id, self.group)

    @rule(data=st.data())
    def google_user_copies_one_of_ours_with_its_marker(self, data: st.DataObject) -> None:
        ours = {
            c.id: c
            for c in self.world.contacts.contacts().values()
            if c.marker is not None and c.fields is not None
        }
        if ours:
            original = ours[data.draw(st.sampled_from(sorted(ours)))]
            assert original.fields is not None
            assert original.marker is not None
            copy = self.world.contacts.external_create(
                original.fields, groups=[self.group], marker=Marker(NS, original.marker.host_id)
            )
            self.copies.add(copy.id)

    @rule()
    def google_expires_sync_tokens(self) -> None:
        self.world.contacts.expire_cursors()

    # -- failures ------------------------------------------------------------------------

    @rule(method=st.sampled_from([*REMOTE_WRITES, "list_contacts", "get_contact"]))
    def google_fails_next_call(self, method: str) -> None:
        self.world.contacts.fail_next(method, TransientError("503 backend error"))

    @rule(method=st.sampled_from(REMOTE_WRITES))
    def process_dies_after_a_google_write(self, method: str) -> None:
        self.world.contacts.crash_after_next(method)
        with contextlib.suppress(SimulatedCrash):
            self.sync_once()
        self.world.contacts.clear_faults()
        mapped = {row.remote_id for row in self.mappings()}
        self.unrecorded |= {
            c.id
            for c in self.world.contacts.contacts().values()
            if c.marker is not None and c.marker.namespace == NS and c.id not in mapped
        }

    # -- syncing -------------------------------------------------------------------------

    def sync_once(self, **kw: Any) -> Any:
        engine = self.world.engine
        engine.batch_size = self.batch
        try:
            report = engine.sync(self.world.profile, None, self.world.contacts, **kw)
        finally:  # a run that crashed may have recorded pairs too (an adopted copy, say)
            mapped = {row.remote_id for row in self.mappings()}
            self.ever_mapped.update(mapped)
            self.unrecorded -= mapped
        if report.initial_sync_completed:
            self.world.options(initial_sync_pending=False)
        return report

    @rule()
    def sync(self) -> None:
        self.sync_once()

    @rule()
    def clean_sync_converges(self) -> None:
        self.world.contacts.clear_faults()
        self.world.clients.clear_faults()
        report = self.sync_once()
        if report.held:
            self.sync_once(confirm_deletions=True)
        settle = self.sync_once()
        assert settle.ok, settle.summary()
        rerun = self.sync_once()
        assert rerun.writes == 0, rerun.summary() + "\n" + "\n".join(rerun.planned)
        self.check_agreement()

    def mappings(self) -> list[Any]:
        return list(self.world.store.mappings(NS, Channel.CONTACTS).values())

    # -- invariants ----------------------------------------------------------------------

    def check_agreement(self) -> None:
        world = self.world
        members = set(world.clients.members(USER, self.group))
        clients = world.clients.contacts(USER)
        mapping = world.store.mappings(NS, Channel.CONTACTS)
        remote = world.contacts.contacts()
        assert set(mapping) == members, (sorted(mapping), sorted(members))
        for host_id, row in mapping.items():
            contact = remote[row.remote_id]
            assert contact.fields == clients[host_id].fields, host_id
        # one contact in the group per studio client carrying our marker, copies aside (a
        # contact the user took out of the group before calsync recorded making it cannot be
        # found again: People cannot search by clientData)
        # (a contact calsync made for a client deleted before the make was recorded is proven
        # by its made token and goes with the client; once its intent is gone it cannot be told
        # from a user's copy, so it is left, and named in the report)
        owners = [
            c.marker.host_id
            for c in world.contacts.contacts(self.group).values()
            if c.marker is not None
            and c.marker.namespace == NS
            and c.id not in self.copies
            and c.id not in self.lost_to_a_switch - {row.remote_id for row in mapping.values()}
            and c.marker.host_id in members
        ]
        assert len(owners) == len(set(owners)), owners

    @invariant()
    def no_studio_client_is_ever_deleted(self) -> None:
        alive = set(self.world.clients.contacts(USER))
        assert self.studio_made - self.studio_deleted <= alive

    @invariant()
    def no_google_contact_calsync_did_not_make_is_deleted_unless_it_was_synced(self) -> None:
        alive = set(self.world.contacts.contacts())
        for contact_id in (self.google_made | self.copies) - self.google_deleted:
            assert contact_id in alive or contact_id in self.ever_mapped, contact_id


ContactsMachine.TestCase.settings = machine_settings(40)


@pytest.mark.stateful
class TestContactsStateMachine(ContactsMachine.TestCase):  # type: ignore[misc,valid-type]
    """The contacts channel keeps its promises under random edits, failures and crashes."""
