"""A client's phone numbers, email addresses and postal address parts are text like its name:
``\\r\\n`` folded, trailing blanks dropped and a lone half of a UTF-16 pair (Windows text can
hold one) made U+FFFD. What reaches Google is whole characters, and the next run is quiet."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from calsync import Contact, ContactFields, Email, Phone, PostalAddress
from calsync.model import whole_characters

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import MakeWorld


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            Phone("07700\ud800900 ", " work\t"), Phone("07700\ufffd900", "work"), id="phone"
        ),
        pytest.param(
            Email("ann\udc00@example.com\r\n", " "), Email("ann\ufffd@example.com"), id="email"
        ),
        pytest.param(
            PostalAddress("1 High St  \r\nFlat 2\ud800 ", " Leeds ", "W Yorks\n", " LS1 ", "GB "),
            PostalAddress("1 High St\nFlat 2\ufffd", "Leeds", "W Yorks", "LS1", "GB"),
            id="address",
        ),
        pytest.param(
            PostalAddress(label=" work\udc00\r\n"), PostalAddress(label="work\ufffd"), id="label"
        ),
    ],
)
def test_contact_details_are_normalised_like_all_text(value: object, expected: object) -> None:
    assert value == expected


@pytest.mark.emulator
def test_what_reaches_google_is_whole_characters_and_the_next_run_is_quiet(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(inbound_contacts=True)
    fields = ContactFields(
        "Ann",
        phones=[Phone("07700\ud800900")],
        emails=[Email("ann\udc00@example.com")],
        addresses=[PostalAddress("1 High St  \r\nFlat 2\ud800", "Leeds ")],
    )
    w.clients.add(studio.user, Contact("c1", fields), [studio.group])

    report = w.sync()

    assert report.ok, report.summary()
    [person] = w.group_members().values()
    sent = [
        person["phoneNumbers"][0]["value"],
        person["emailAddresses"][0]["value"],
        person["addresses"][0]["streetAddress"],
        person["addresses"][0]["city"],
    ]
    assert sent == ["07700\ufffd900", "ann\ufffd@example.com", "1 High St\nFlat 2\ufffd", "Leeds"]
    assert all(whole_characters(text) for text in sent)

    quiet = w.sync()

    assert (quiet.ok, quiet.writes) == (True, 0)
