"""The contract suite of a :class:`~calsync.sources.ContactSource` (see
:mod:`calsync.testing.contracts.sources`)."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import pytest

from calsync.model import Contact, ContactFields, Phone
from calsync.sources import ContactUpdate, Unreadable
from calsync.testing.contracts.harness import ContactHarness, CorruptClientDriver

__all__ = ["ContactSourceContract"]


def client(contact_id: str, given: str = "Ann", family: str = "Archer") -> Contact:
    fields = ContactFields(
        given_name=given,
        family_name=family,
        phones=[Phone("+44 20 7946 0000")],
        notes="Prefers mornings",
    )
    return Contact(contact_id, fields)


class ContactSourceContract:
    """Every behaviour calsync relies on from a :class:`~calsync.sources.ContactSource`."""

    @pytest.fixture
    def contact_harness(self) -> ContactHarness:
        """Override: return the adapter under test with its driver."""
        raise NotImplementedError("override the contact_harness fixture")

    def _add(
        self, h: ContactHarness, contact: Contact, groups: Sequence[str], user: str = ""
    ) -> str:
        return h.driver.add(user or h.user_id, contact, groups).id

    def _members(self, h: ContactHarness, group: str, user: str = "") -> set[str]:
        return {contact.id for contact in h.source.list_group(user or h.user_id, group)}

    def _created(self, h: ContactHarness, origin: str = "people/c1") -> Contact:
        fields = ContactFields(given_name="Bea", family_name="Baker", notes="From Google")
        return h.source.create_contact(h.user_id, h.group, fields, origin)

    # -- reading -------------------------------------------------------------------------

    def test_list_group_returns_the_members_only(self, contact_harness: ContactHarness) -> None:
        h = contact_harness
        member = self._add(h, client("contract-ann"), [h.group])
        other = self._add(h, client("contract-bob", "Bob"), [h.other_group])

        assert ({member}, {other}) == (
            self._members(h, h.group) & {member, other},
            self._members(h, h.other_group) & {member, other},
        )

    def test_a_group_without_members_lists_nothing(self, contact_harness: ContactHarness) -> None:
        h = contact_harness

        assert list(h.source.list_group(h.user_id, "calsync contract empty group")) == []

    def test_get_contact_of_a_removed_client_is_none(self, contact_harness: ContactHarness) -> None:
        h = contact_harness
        contact_id = self._add(h, client("contract-ann"), [h.group])
        h.driver.remove(h.user_id, contact_id)

        assert h.source.get_contact(h.user_id, contact_id) is None
        assert contact_id not in self._members(h, h.group)

    def test_users_do_not_see_each_others_clients(self, contact_harness: ContactHarness) -> None:
        h = contact_harness
        contact_id = self._add(h, client("contract-ann"), [h.group])

        assert contact_id not in self._members(h, h.group, user=h.other_user_id)
        assert h.source.get_contact(h.other_user_id, contact_id) is None

    # -- writes --------------------------------------------------------------------------

    def test_create_contact_makes_a_client_in_the_group_carrying_its_origin(
        self, contact_harness: ContactHarness
    ) -> None:
        h = contact_harness

        contact = self._created(h, "people/c1")

        assert contact.remote_id == "people/c1"
        assert (contact.fields.given_name, contact.fields.family_name) == ("Bea", "Baker")
        assert contact == h.source.get_contact(h.user_id, contact.id)
        assert contact.id in self._members(h, h.group)

    def test_create_contact_is_idempotent_per_origin(self, contact_harness: ContactHarness) -> None:
        h = contact_harness
        first = self._created(h, "people/c1")

        again = self._created(h, "people/c1")
        other = self._created(h, "people/c2")

        assert first.id == again.id
        assert first.id != other.id
        listed = [
            c
            for c in h.source.list_group(h.user_id, h.group)
            if isinstance(c, Contact) and c.remote_id == "people/c1"
        ]
        assert [first.id] == [c.id for c in listed]

    def test_update_contact_applies_only_the_changed_fields(
        self, contact_harness: ContactHarness
    ) -> None:
        h = contact_harness
        contact_id = self._add(h, client("contract-ann"), [h.group])
        before = h.source.get_contact(h.user_id, contact_id)
        assert isinstance(before, Contact)
        edit = ContactFields(given_name="Anne", family_name="ignored", notes="Call after 5")

        updated = h.source.update_contact(
            h.user_id, contact_id, ContactUpdate(edit, frozenset({"given_name", "notes"}))
        )

        expected = attrs.evolve(before.fields, given_name="Anne", notes="Call after 5")
        assert expected == updated.fields
        assert updated.revision is None or updated.revision != before.revision
        assert updated == h.source.get_contact(h.user_id, contact_id)

    def test_remove_from_group_keeps_the_client(self, contact_harness: ContactHarness) -> None:
        h = contact_harness
        contact_id = self._add(h, client("contract-ann"), [h.group])

        h.source.remove_from_group(h.user_id, h.group, contact_id)
        h.source.remove_from_group(h.user_id, h.group, contact_id)

        assert contact_id not in self._members(h, h.group)
        assert h.source.get_contact(h.user_id, contact_id) is not None

    def _corrupt(self, h: ContactHarness, groups: Sequence[str]) -> str:
        if h.no_corrupt_rows:
            pytest.skip(h.no_corrupt_rows)
        if not isinstance(h.driver, CorruptClientDriver):
            pytest.fail(
                "the contact driver has no add_corrupt: implement CorruptClientDriver, or say "
                "why the host cannot hold a corrupt row in ContactHarness(no_corrupt_rows=...)"
            )
        return h.driver.add_corrupt(h.user_id, client("contract-broken", "Broken"), groups)

    def test_a_corrupt_client_row_is_listed_as_unreadable_with_its_id_and_the_rest_intact(
        self, contact_harness: ContactHarness
    ) -> None:
        h = contact_harness
        member = self._add(h, client("contract-ann"), [h.group])
        broken = self._corrupt(h, [h.group])

        listed = list(h.source.list_group(h.user_id, h.group))

        unreadable = [c for c in listed if isinstance(c, Unreadable)]
        assert [broken] == [c.id for c in unreadable]
        assert unreadable[0].reason.strip()
        assert member in {c.id for c in listed if isinstance(c, Contact)}

    def test_get_contact_of_a_corrupt_client_row_is_unreadable_with_its_id_and_a_reason(
        self, contact_harness: ContactHarness
    ) -> None:
        h = contact_harness
        broken = self._corrupt(h, [h.group])

        found = h.source.get_contact(h.user_id, broken)

        assert isinstance(found, Unreadable)
        assert (broken, True) == (found.id, bool(found.reason.strip()))

    def test_the_change_feed_reports_a_corrupt_client_as_unreadable(
        self, contact_harness: ContactHarness
    ) -> None:
        h = contact_harness
        cursor = self._cursor(h)
        broken = self._corrupt(h, [h.group])

        changes = h.source.changes_since(h.user_id, h.group, cursor)

        assert [Unreadable] == [type(c) for c in changes.changed if c.id == broken]
        assert broken not in changes.deleted

    # -- change feed ---------------------------------------------------------------------

    def _cursor(self, h: ContactHarness) -> str:
        cursor = h.source.change_cursor(h.user_id, h.group)
        if cursor is None:
            pytest.skip("the adapter offers no change feed")
        return cursor

    def test_the_change_feed_reports_joiners_and_leavers(
        self, contact_harness: ContactHarness
    ) -> None:
        h = contact_harness
        leaving = self._add(h, client("contract-ann"), [h.group])
        doomed = self._add(h, client("contract-cy", "Cy"), [h.group])
        cursor = self._cursor(h)
        joining = self._add(h, client("contract-bob", "Bob"), [h.group])
        h.source.remove_from_group(h.user_id, h.group, leaving)
        h.driver.remove(h.user_id, doomed)

        changes = h.source.changes_since(h.user_id, h.group, cursor)

        assert joining in {c.id for c in changes.changed}
        assert {leaving, doomed} == {leaving, doomed} & set(changes.deleted)
        assert set() == {leaving, doomed} & {c.id for c in changes.changed}

    def test_the_change_feed_moves_on_to_the_cursor_it_returns(
        self, contact_harness: ContactHarness
    ) -> None:
        h = contact_harness
        cursor = self._cursor(h)
        first = self._add(h, client("contract-ann"), [h.group])
        cursor = h.source.changes_since(h.user_id, h.group, cursor).cursor
        second = self._add(h, client("contract-bob", "Bob"), [h.group])

        changes = h.source.changes_since(h.user_id, h.group, cursor)

        assert {second} == {c.id for c in changes.changed} & {first, second}

    def test_the_change_feed_refuses_an_unknown_cursor(
        self, contact_harness: ContactHarness
    ) -> None:
        h = contact_harness
        self._cursor(h)

        with pytest.raises(LookupError):
            h.source.changes_since(h.user_id, h.group, "calsync-contract-unknown-cursor")
