"""The studios the server example serves: their seeded data, and what their staff do between
two rounds, in the studio and in Google."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

from google.oauth2.credentials import Credentials
from studio.adapters import StudioProfiles
from studio.db import GooglePrefs, Span, Studio

from calsync.google import build_calendar_service
from calsync.testing import GoogleEmulator

__all__ = [
    "SYNC_BACK_STAFF",
    "add_google_event",
    "email_of",
    "make_changes",
    "profile_of",
    "seed_studio",
    "staff_of",
    "studio_name",
]

GROUP = "Weddings 2027"
ZONE = "Europe/London"
CLIENTS = [
    ("Harriet", "Moss", "+44 20 7946 0811"),
    ("Oliver", "Pike", "+44 117 496 0744"),
    ("Sofia", "Marin", "+1 212 555 0147"),
    ("Priya", "Shah", "+44 20 7946 0522"),
]
SYNC_BACK_STAFF = 2  # the staff number of the first user with sync back on


def at(day: date, hour: int, minutes: int) -> Span:
    start = datetime.combine(day, time(hour))
    return Span(start, start + timedelta(minutes=minutes), ZONE)


def studio_name(studio_number: int) -> str:
    """The studio's tenant name, the first part of its users' profile ids (``studio1.<id>``)."""
    return f"studio{studio_number}"


def email_of(studio_number: int, staff_number: int) -> str:
    """Every user is their own Google account; their primary calendar's id is this address."""
    return f"staff{staff_number}@{studio_name(studio_number)}.example"


_STAFF_EMAIL = re.compile(r"staff(\d+)@studio\d+\.example")


def staff_of(studio: Studio) -> dict[int, int]:
    """The studio's staff users' ids by staff number (1, 2, ...), in that order. The studio
    draws a user's id when it adds them, so the number is read from the address
    :func:`email_of` gave them."""
    staff: dict[int, int] = {}
    for user, _ in studio.all_google_prefs():
        if match := _STAFF_EMAIL.fullmatch(user.email):
            staff[int(match[1])] = user.id
    return dict(sorted(staff.items()))


def profile_of(studio: Studio | str | Path, studio_number: int, staff_number: int) -> str:
    """The calsync profile id of staff member ``staff_number`` of studio ``studio_number``
    (``"studio1.<their user id>"``), found in the studio (or its database file).

    Raises:
        KeyError: the studio has no such staff member.
    """
    if not isinstance(studio, Studio):
        with Studio(studio) as opened:
            return profile_of(opened, studio_number, staff_number)
    user = staff_of(studio)[staff_number]
    return StudioProfiles(studio, studio_name(studio_number)).profile_id(user)


def seed_studio(studio: Studio, number: int, users: int, today: date) -> dict[int, str]:
    """Clients, a client sync group, and ``users`` staff with two sessions and a day off
    each; returns each user's Google address, by user id (drawn by the studio: see
    :func:`staff_of`). Staff take turns at four set-ups: 1 calendar and contacts, 2 calendar
    both ways (sync back), 3 calendar out only, 4 sync off."""
    clients = [
        studio.add_client(first, last, phone=phone, email=f"{first.lower()}@clients.example")
        for first, last, phone in CLIENTS
    ]
    group = studio.add_group(GROUP)
    for client in clients[:3]:
        studio.add_to_group(group, client)
    emails: dict[int, str] = {}
    for n in range(users):
        email = email_of(number, n + 1)
        user = studio.add_user(f"Staff {n + 1}", email)
        emails[user] = email
        for day in (2 + n, 9 + n):
            client = clients[(n + day) % len(clients)]
            span = at(today + timedelta(days=day), 10, 120)
            studio.book_session(user, client, "Portrait", span, location="Studio A")
        day_off = today + timedelta(days=5 + n)
        studio.add_appointment(user, "Day off", Span(day_off, day_off + timedelta(days=1)))
        setup = n % 4
        prefs = GooglePrefs(
            sync_on=setup != 3,
            calendar_id=email,
            sync_contacts=setup == 0,
            client_sync_group=GROUP if setup == 0 else None,
            sync_back_calendar=setup == 1,
        )
        studio.set_google_prefs(user, prefs)
    return emails


def make_changes(studio: Studio, today: date, round_number: int) -> None:
    """What staff do between two rounds: staff 1 moves a session a day later, staff 2 (or
    staff 1, alone) adds an appointment, and a client's phone number changes (sessions show
    it, so that client's sessions change): the same staff and client in every run."""
    first, *others = staff_of(studio).values()
    session = studio.sessions_between(first, today, today + timedelta(days=60))[0]
    day = timedelta(days=1)
    studio.update_session(
        session.id, span=Span(session.span.start + day, session.span.end + day, ZONE)
    )
    studio.add_appointment((others or [first])[0], "Call the venue", at(today + day, 15, 30))
    group = studio.group_id(GROUP)
    assert group is not None
    # the first client seeded (by name: the studio draws ids), so every run changes the same
    first_name, last_name, _ = CLIENTS[0]
    [client] = [
        c
        for c in studio.group_members(group)
        if (c.first_name, c.last_name) == (first_name, last_name)
    ]
    studio.update_client(client.id, phone=f"+44 20 7946 {round_number:04d}")


def add_google_event(google: GoogleEmulator, email: str, day: date) -> None:
    """A user adds an event in their Google Calendar (through the real client, as any Google
    app would); with sync back on, it comes back to the studio as an unlinked appointment."""
    access, _ = google.issue_tokens(email)
    credentials = Credentials(token=access)  # type: ignore[no-untyped-call,unused-ignore]
    with build_calendar_service(credentials, base_url=google.base_url) as calendar:
        start, end = (datetime.combine(day, time(hour)).isoformat() for hour in (12, 13))
        body = {
            "summary": "Coffee with a new client",
            "start": {"dateTime": start, "timeZone": ZONE},
            "end": {"dateTime": end, "timeZone": ZONE},
        }
        calendar.events().insert(calendarId=email, body=body).execute()
