"""An update of a contact is merged into the person as Google holds it: what the Google user
entered in the synced fields that calsync does not model survives every update calsync makes
(People replaces each field an update names, whole)."""

from __future__ import annotations

import copy
from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st

from calsync.google.translate import contact_from_json, merged_person_fields, person_body
from calsync.model import ContactFields, Email, Phone, PostalAddress

GROUP = "contactGroups/abc"
ANN = ContactFields(
    given_name="Ann",
    family_name="Smith",
    organization="Archer & Co",
    phones=(Phone("+44 20 7946 0000"), Phone("+44 20 7946 0001", "work")),
    emails=(Email("ann@example.com"),),
    addresses=(PostalAddress("1 High St", "London", postal_code="N1 1AA", country="GB"),),
    notes="Prefers mornings",
)


def as_google_holds_it(fields: ContactFields) -> dict[str, Any]:
    """The synced fields of ``fields`` as Google sends them, with what its user added."""
    person = person_body(fields)
    added = {
        "names": {"middleName": "Marie", "honorificPrefix": "Dr", "displayName": "Dr Marie"},
        "organizations": {"title": "Head of Photography", "department": "Events"},
        "phoneNumbers": {"formattedType": "Mobile", "canonicalForm": "+442079460000"},
        "emailAddresses": {"displayName": "Ann at home"},
        "addresses": {"extendedAddress": "Flat 3", "poBox": "PO 9"},
    }
    for key, extra in added.items():
        for entry in person[key][:1]:
            entry.update(extra)
    if person["organizations"]:  # (behind the first, which is the one read)
        person["organizations"].append({"name": "Second job", "title": "Tutor"})
    for entries in person.values():
        for entry in entries:
            entry["metadata"] = {"primary": True, "source": {"type": "CONTACT", "id": "1"}}
    return person


def read(synced: dict[str, Any]) -> ContactFields | None:
    contact = contact_from_json({"resourceName": "people/c1", **synced}, GROUP)
    assert not isinstance(contact, str)
    return getattr(contact, "fields", None)


def test_fields_calsync_does_not_change_are_sent_back_as_google_sent_them() -> None:
    held = as_google_holds_it(ANN)

    merged = merged_person_fields(copy.deepcopy(held), ANN)

    assert merged == held


def test_a_phone_change_keeps_the_other_phones_and_every_other_field_as_they_were() -> None:
    held = as_google_holds_it(ANN)
    changed = attrs.evolve(ANN, phones=(ANN.phones[0], Phone("+44 20 7946 9999", "work")))

    merged = merged_person_fields(held, changed)

    assert merged["phoneNumbers"][0] == held["phoneNumbers"][0]  # formatting and all
    assert merged["phoneNumbers"][1] == {"value": "+44 20 7946 9999", "type": "work"}
    for key in ("names", "organizations", "emailAddresses", "addresses", "biographies"):
        assert merged[key] == held[key]


def test_a_name_change_keeps_the_middle_name_and_prefix_and_drops_the_derived_names() -> None:
    merged = merged_person_fields(as_google_holds_it(ANN), attrs.evolve(ANN, family_name="Smyth"))

    [name] = merged["names"]
    assert (name["givenName"], name["familyName"]) == ("Ann", "Smyth")
    assert (name["middleName"], name["honorificPrefix"]) == ("Marie", "Dr")
    assert "displayName" not in name  # Google derives it again from the parts


def test_an_organisation_or_note_change_keeps_the_rest_of_its_entry_and_the_other_entries() -> None:
    changed = attrs.evolve(ANN, organization="Archer Ltd", notes="Prefers evenings")

    merged = merged_person_fields(as_google_holds_it(ANN), changed)

    first, second = merged["organizations"]
    assert (first["name"], first["title"], first["department"]) == (
        "Archer Ltd",
        "Head of Photography",
        "Events",
    )
    assert second == {"name": "Second job", "title": "Tutor", "metadata": first["metadata"]}
    assert [b["value"] for b in merged["biographies"]] == ["Prefers evenings"]


def test_a_changed_address_is_written_whole_and_an_emptied_field_is_cleared() -> None:
    moved = PostalAddress("9 Low Rd", "Leeds", country="GB")
    changed = attrs.evolve(ANN, addresses=(moved,), organization="", notes="")

    merged = merged_person_fields(as_google_holds_it(ANN), changed)

    [address] = merged["addresses"]
    assert "extendedAddress" not in address  # the flat number of the old address
    assert (address["streetAddress"], address["city"]) == ("9 Low Rd", "Leeds")
    # the job title stays, on an organisation without a name (read as none), and so does the
    # second job behind it
    assert merged["organizations"][0]["title"] == "Head of Photography"
    assert [o.get("name") for o in merged["organizations"]] == [None, "Second job"]
    assert merged["biographies"] == []


def test_an_emptied_organisation_with_nothing_else_takes_no_other_entry_into_its_place() -> None:
    held = {"organizations": [{"name": "Archer & Co"}, {"name": "Second job", "title": "Tutor"}]}

    merged = merged_person_fields(held, ContactFields(given_name="Ann"))

    assert merged["organizations"] == []  # else "Second job" would be read as the organisation


def test_a_name_given_in_one_line_is_read_as_the_given_name_and_kept_by_other_updates() -> None:
    held = {"names": [{"unstructuredName": "Dr. Who", "displayName": "Dr. Who"}]}

    fields = read(held)
    assert fields == ContactFields(given_name="Dr. Who")
    merged = merged_person_fields(held, attrs.evolve(fields, phones=(Phone("+44 1"),)))

    assert merged["names"] == held["names"]


_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=6)
_fields = st.builds(
    ContactFields,
    given_name=_text,
    family_name=_text,
    organization=_text,
    phones=st.lists(
        st.builds(Phone, _text.filter(str.strip), st.sampled_from(["mobile", "work"])), max_size=3
    ),
    emails=st.lists(st.builds(Email, _text.filter(str.strip)), max_size=2),
    addresses=st.lists(st.builds(PostalAddress, _text, _text), max_size=2),
    notes=_text,
)


@given(before=_fields, after=_fields)
def test_whatever_google_held_an_update_reads_back_as_the_fields_calsync_meant(
    before: ContactFields, after: ContactFields
) -> None:
    held = as_google_holds_it(before)

    assert read(merged_person_fields(held, after)) == after
    assert read(merged_person_fields(held, before)) == read(held)  # nothing changed: as held
