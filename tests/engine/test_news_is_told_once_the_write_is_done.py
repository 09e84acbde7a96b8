"""What calsync mends in Google — a contact or event deleted there and restored, a contact out
of the group put in it, a stray contact taken out of the group — reaches the report's warnings
only once the write is done. A write that fails is an error, and the report does not also say
it was done; a dry run says what it would do."""

from __future__ import annotations

import pytest
from studio_world import CAL, GROUP, USER, World, client, make_world, session

from calsync import InvalidRequest, MemoryStateStore, PreconditionFailed, Side
from calsync.testing import SimulatedCrash

REFUSED = InvalidRequest("Google answered 400 BAD_REQUEST: badRequest", status=400)
DELETED = "the contact 'Ann Smith' (c1) was deleted in Google"
OUT = "the contact 'Ann Smith' (c1) was not in the Google group"


def synced_contact(**options: object) -> tuple[World, str]:
    world = make_world(MemoryStateStore(), contacts=True, client_group=GROUP, **options)
    world.clients.add(USER, client("c1"), groups=[GROUP])
    world.sync()
    (contact_id,) = world.contacts.contacts()
    return world, contact_id


def told(warnings: list[str], found: str) -> list[str]:
    """The warnings that tell what was ``found``."""
    return [w for w in warnings if w.startswith(found)]


def test_a_restore_that_fails_is_an_error_and_not_said_to_be_done() -> None:
    """Before, the report said "it has been restored" beside the error of that restore."""
    world, contact_id = synced_contact()
    world.contacts.external_delete(contact_id)
    world.contacts.fail_next("create_contact", REFUSED)

    failed = world.sync()

    assert [e.item for e in failed.errors] == ["c1"]
    assert told(failed.warnings, DELETED) == []
    assert not any("restored" in warning for warning in failed.warnings)
    assert world.contacts.contacts() == {}

    retried = world.sync()

    assert retried.count(Side.REMOTE, "restored") == 1
    assert told(retried.warnings, DELETED) == [f"{DELETED}; it has been restored"]


def test_a_put_back_that_fails_is_an_error_and_not_said_to_be_done() -> None:
    world, contact_id = synced_contact()
    world.contacts.external_remove_from_group(contact_id, GROUP)
    world.contacts.fail_next("update_contact", REFUSED)

    failed = world.sync()

    assert [e.item for e in failed.errors] == ["c1"]
    assert told(failed.warnings, OUT) == []
    assert world.contacts.contacts(GROUP) == {}

    retried = world.sync()

    assert told(retried.warnings, OUT) == [f"{OUT}; it has been put in it"]
    assert set(world.contacts.contacts(GROUP)) == {contact_id}


def test_a_put_back_replanned_after_a_remote_change_is_told_once() -> None:
    world, contact_id = synced_contact()
    world.contacts.external_remove_from_group(contact_id, GROUP)
    world.contacts.fail_next("update_contact", PreconditionFailed("etag moved", status=412))

    report = world.sync()

    assert report.ok, report.summary()
    assert told(report.warnings, OUT) == [f"{OUT}; it has been put in it"]
    assert set(world.contacts.contacts(GROUP)) == {contact_id}


def test_a_dry_run_says_what_it_would_restore_and_put_back() -> None:
    world, contact_id = synced_contact()
    world.clients.add(USER, client("c2", "Ben", "Jones"), groups=[GROUP])
    world.sync()
    ben = next(c for c in world.contacts.contacts() if c != contact_id)
    world.contacts.external_delete(contact_id)
    world.contacts.external_remove_from_group(ben, GROUP)

    dry = world.sync(dry_run=True)

    assert sorted(dry.warnings) == [
        "the contact 'Ann Smith' (c1) was deleted in Google; it would be restored",
        "the contact 'Ben Jones' (c2) was not in the Google group; it would be put in it",
    ]
    assert len(world.contacts.contacts(GROUP)) == 0  # nothing was done

    done = world.sync()

    assert sorted(done.warnings) == [
        "the contact 'Ann Smith' (c1) was deleted in Google; it has been restored",
        "the contact 'Ben Jones' (c2) was not in the Google group; it has been put in it",
    ]


def test_a_session_restore_that_fails_is_not_said_to_be_done() -> None:
    world = make_world(MemoryStateStore(), inbound_calendar=True)
    world.schedule.add(USER, session("s1"))
    world.sync()
    (event_id,) = world.events()
    world.calendar.external_delete(CAL, event_id)
    world.calendar.fail_next("write_events", REFUSED)

    failed = world.sync()

    assert [e.item for e in failed.errors] == ["s1"]
    assert not any("restored" in warning for warning in failed.warnings)

    retried = world.sync()

    assert retried.count(Side.REMOTE, "restored") == 1
    assert [w for w in retried.warnings if "deleted in Google" in w] == [
        f"the session {_session_name(world)} (s1) was deleted in Google; it has been restored"
    ]


def _session_name(world: World) -> str:
    (event,) = world.events().values()
    assert event.fields is not None
    return repr(event.fields.title)


def test_a_stray_contact_is_said_to_be_out_of_the_group_only_once_it_is() -> None:
    """A contact made just before its client left the group (the make unrecorded) is taken
    out of the group; when Google refuses that, the report does not say it was."""
    world = make_world(MemoryStateStore(), contacts=True, client_group=GROUP)
    world.clients.add(USER, client("c1"), groups=[GROUP])
    world.contacts.crash_after_next("create_contact")
    with pytest.raises(SimulatedCrash):
        world.sync()
    world.clients.remove_from_group_by_user(USER, GROUP, "c1")
    world.contacts.fail_next("remove_from_group", REFUSED)

    failed = world.sync()

    assert [e.item for e in failed.errors] == ["c1"]
    assert not any("taken out of the sync group" in warning for warning in failed.warnings)
    assert len(world.contacts.contacts(GROUP)) == 1

    retried = world.sync()

    assert any(w.endswith("it was taken out of the sync group") for w in retried.warnings)
    assert world.contacts.contacts(GROUP) == {}
