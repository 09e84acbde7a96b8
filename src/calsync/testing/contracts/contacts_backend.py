"""The contract suite of a :class:`~calsync.backends.ContactsBackend` (see
:mod:`calsync.testing.contracts.backends`)."""

from __future__ import annotations

import uuid

import pytest

from calsync.backends import CreateContact, DeleteContact, RemoteContact, UpdateContact
from calsync.errors import NotFound, PreconditionFailed
from calsync.model import ContactFields, Email, Marker, Phone, PostalAddress
from calsync.testing.contracts.backend_harness import MARKER, ContactsHarness, ids_of

__all__ = ["ContactsBackendContract"]


def contact_fields(given: str = "Ann", notes: str = "Prefers mornings") -> ContactFields:
    return ContactFields(
        given_name=given,
        family_name="Archer",
        organization="Archer & Co",
        phones=[Phone("+44 20 7946 0000"), Phone("+44 20 7946 0001", "work")],
        emails=[Email("ann@example.com")],
        addresses=[PostalAddress("1 High St", "London", postal_code="N1 1AA", country="GB")],
        notes=notes,
    )


class ContactsBackendContract:
    """Every behaviour calsync relies on from a :class:`~calsync.backends.ContactsBackend`."""

    @pytest.fixture
    def contacts_harness(self) -> ContactsHarness:
        """Override: return the backend under test, its driver and a group name."""
        raise NotImplementedError("override the contacts_harness fixture")

    @pytest.fixture
    def group_id(self, contacts_harness: ContactsHarness) -> str:
        return contacts_harness.backend.ensure_group(contacts_harness.group_name)

    def _create(
        self, h: ContactsHarness, group_id: str, fields: ContactFields | None = None
    ) -> RemoteContact:
        return h.backend.create_contact(group_id, fields or contact_fields(), MARKER)

    # -- groups and listing --------------------------------------------------------------

    def test_ensure_group_finds_the_group_it_made(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness

        again = h.backend.ensure_group(h.group_name)
        other = h.backend.ensure_group(f"{h.group_name} {uuid.uuid4().hex[:6]}")

        assert again == group_id
        assert other != group_id

    def test_a_full_listing_holds_the_live_members_of_the_group(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        ours = self._create(h, group_id)
        theirs = h.driver.external_create(contact_fields("Bea"), groups=[group_id])
        outsider = h.driver.external_create(contact_fields("Cy"))
        deleted = self._create(h, group_id, contact_fields("Dee"))
        h.backend.delete_contact(deleted.id)

        listing = h.backend.list_contacts(group_id, None)

        listed = {c.id: c for c in listing.items}
        assert {ours.id, theirs.id} <= set(listed)
        assert set() == {outsider.id, deleted.id} & set(listed)
        assert all(c.in_group and not c.deleted for c in listing.items)
        assert (listing.complete, listing.restarted) == (True, None)
        assert listing.cursor is not None

    def test_a_new_group_lists_empty(self, contacts_harness: ContactsHarness) -> None:
        h = contacts_harness
        empty = h.backend.ensure_group(f"calsync contract empty {uuid.uuid4().hex[:6]}")

        listing = h.backend.list_contacts(empty, None)

        assert (list(listing.items), listing.complete) == ([], True)

    def test_an_incremental_listing_holds_changes_leavers_and_tombstones(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        unchanged, edited, leaving, doomed = (
            self._create(h, group_id, contact_fields(name)) for name in ("Ann", "Bea", "Cy", "Dee")
        )
        cursor = h.backend.list_contacts(group_id, None).cursor
        h.driver.external_update(edited.id, notes="Now vegetarian")
        h.driver.external_remove_from_group(leaving.id, group_id)
        h.driver.external_delete(doomed.id)

        listing = h.backend.list_contacts(group_id, cursor)

        by_id = {c.id: c for c in listing.items}
        assert listing.complete is False
        assert {edited.id, leaving.id, doomed.id} <= set(by_id)
        assert unchanged.id not in by_id
        assert (by_id[edited.id].fields or ContactFields()).notes == "Now vegetarian"
        assert (by_id[leaving.id].in_group, by_id[leaving.id].deleted) == (False, False)
        assert by_id[doomed.id].deleted

    def test_an_expired_cursor_gives_a_full_listing_that_says_so(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        member = self._create(h, group_id)
        cursor = h.backend.list_contacts(group_id, None).cursor
        h.driver.expire_cursors()

        listing = h.backend.list_contacts(group_id, cursor)

        assert (listing.complete, bool(listing.restarted)) == (True, True)
        assert member.id in ids_of(listing.items)

    def test_listing_a_group_deleted_in_google_raises_not_found(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        self._create(h, group_id)
        cursor = h.backend.list_contacts(group_id, None).cursor
        h.driver.external_delete_group(group_id)  # its contacts stay, out of the group

        with pytest.raises(NotFound):  # the engine then makes the group again
            h.backend.list_contacts(group_id, cursor)
        with pytest.raises(NotFound):
            h.backend.list_contacts(group_id, None)

    # -- single contacts -----------------------------------------------------------------

    def test_get_contact_returns_the_contact_as_created(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        created = self._create(h, group_id)

        got = h.backend.get_contact(created.id)

        assert got is not None
        assert (got.fields, got.marker, got.etag) == (contact_fields(), MARKER, created.etag)
        assert (got.deleted, got.in_group) == (False, True)

    def test_get_contact_tells_membership_of_the_group_last_ensured(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        """After a switch of the sync group, a contact of the old group only is not in the
        group: the engine puts it in the new one (a double that said "in some group calsync
        ever used" hid that from the engine's tests)."""
        h = contacts_harness
        created = self._create(h, group_id)

        h.backend.ensure_group(f"{h.group_name} {uuid.uuid4().hex[:6]}")
        in_other = h.backend.get_contact(created.id)
        h.backend.ensure_group(h.group_name)
        in_first = h.backend.get_contact(created.id)

        assert in_other is not None
        assert in_first is not None
        assert (in_other.in_group, in_first.in_group) == (False, True)

    def test_a_created_contacts_made_token_comes_back_with_its_marker(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        made = Marker(MARKER.namespace, MARKER.host_id, "0123456789abcdef")
        created = h.backend.create_contact(group_id, contact_fields(), made)

        got = h.backend.get_contact(created.id)
        listed = [c for c in h.backend.list_contacts(group_id, None).items if c.id == created.id]

        assert got is not None
        assert got.marker is not None
        assert (got.marker, got.marker.made) == (MARKER, "0123456789abcdef")
        assert [c.marker.made if c.marker else None for c in listed] == ["0123456789abcdef"]

    def test_get_contact_of_a_deleted_contact_is_none_or_a_tombstone(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        created = self._create(h, group_id)
        h.backend.delete_contact(created.id)
        h.backend.delete_contact(created.id)

        got = h.backend.get_contact(created.id)

        assert got is None or got.deleted

    def test_update_replaces_the_fields_and_gives_a_new_etag(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        created = self._create(h, group_id)

        updated = h.backend.update_contact(
            group_id, created.id, contact_fields("Anne"), None, created.etag
        )

        assert (updated.fields, updated.marker) == (contact_fields("Anne"), MARKER)
        assert updated.etag != created.etag
        assert h.backend.get_contact(created.id) == updated

    def test_update_puts_a_contact_that_left_the_group_back(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        created = self._create(h, group_id)
        h.backend.remove_from_group(created.id, group_id)
        current = h.backend.get_contact(created.id)
        assert current is not None

        h.backend.update_contact(group_id, created.id, contact_fields(), MARKER, current.etag)

        assert created.id in ids_of(h.backend.list_contacts(group_id, None).items)

    def test_update_with_a_stale_etag_is_refused(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        created = self._create(h, group_id)
        h.driver.external_update(created.id, notes="Edited in Google")

        with pytest.raises(PreconditionFailed):
            h.backend.update_contact(group_id, created.id, contact_fields(), None, created.etag)

    def test_update_of_a_deleted_contact_is_not_found(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        created = self._create(h, group_id)
        h.driver.external_delete(created.id)

        with pytest.raises(NotFound):
            h.backend.update_contact(group_id, created.id, contact_fields(), None, created.etag)

    def test_remove_from_group_keeps_the_contact(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        created = self._create(h, group_id)

        h.backend.remove_from_group(created.id, group_id)

        got = h.backend.get_contact(created.id)
        assert got is not None
        assert (got.deleted, got.in_group, got.fields) == (False, False, contact_fields())
        assert created.id not in ids_of(h.backend.list_contacts(group_id, None).items)

    def test_write_contacts_returns_one_result_per_write_in_order(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        stale = self._create(h, group_id)
        h.driver.external_update(stale.id, notes="Edited in Google")
        gone = self._create(h, group_id)
        h.backend.delete_contact(gone.id)

        results = h.backend.write_contacts(
            group_id,
            [
                CreateContact(contact_fields("New"), MARKER),
                UpdateContact(stale.id, contact_fields(), None, stale.etag),
                DeleteContact(gone.id),
                UpdateContact(gone.id, contact_fields(), None, gone.etag),
            ],
        )

        assert [type(r.error) for r in results] == [
            type(None),
            PreconditionFailed,
            type(None),
            NotFound,
        ]
        created = results[0].item
        assert created is not None
        assert (created.fields, created.marker) == (contact_fields("New"), MARKER)
