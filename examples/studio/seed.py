"""A plausible demo studio: three staff users, six clients, a wedding client group, and a few
weeks of sessions and appointments in London and New York. Deterministic given ``now``, but
for the ids the studio draws (:class:`SeededStudio` returns them).

* Ann syncs her calendar and the "Weddings 2027" client group to Google Contacts.
* Ben syncs his calendar both ways: events he makes in Google come back as unlinked
  appointments.
* Cara syncs her calendar out to Google only.

Each user's chosen calendar is their primary one (its id is the account's address), and every
user's "first time" switch is on, as after setting up Google Sync.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from studio.db import GooglePrefs, Span, Studio

__all__ = ["SeededStudio", "seed_demo_studio"]

WEDDINGS = "Weddings 2027"
LONDON = "Europe/London"
NEW_YORK = "America/New_York"

USERS = {
    "ann": ("Ann Avery", "ann@lumen-studio.example"),
    "ben": ("Ben Brooks", "ben@lumen-studio.example"),
    "cara": ("Cara Cole", "cara@lumen-studio.example"),
}

CLIENTS: dict[str, dict[str, str]] = {
    "harriet": {
        "first_name": "Harriet",
        "last_name": "Moss",
        "phone": "+44 20 7946 0811",
        "email": "harriet.moss@example.com",
        "street": "12 Canal Street",
        "city": "Manchester",
        "postal_code": "M1 3HE",
        "country": "United Kingdom",
        "notes": "Prefers natural light; allergic to lilies.",
    },
    "oliver": {
        "first_name": "Oliver",
        "last_name": "Pike",
        "phone": "+44 117 496 0744",
        "email": "oliver.pike@example.org",
        "street": "4 Mill Lane",
        "city": "Bristol",
        "postal_code": "BS1 5TY",
        "country": "United Kingdom",
    },
    "sofia": {
        "first_name": "Sofia",
        "last_name": "Marin",
        "phone": "+1 212 555 0147",
        "email": "sofia.marin@example.com",
        "street": "88 Bedford Avenue",
        "city": "Brooklyn",
        "region": "NY",
        "postal_code": "11211",
        "country": "United States",
        "notes": "Wedding party of 120; second shooter booked.",
    },
    "daniel": {
        "first_name": "Daniel",
        "last_name": "Okafor",
        "organization": "Okafor Architects",
        "phone": "+1 646 555 0193",
        "email": "dan@okafor-architects.example",
        "street": "300 Park Avenue South",
        "city": "New York",
        "region": "NY",
        "postal_code": "10010",
        "country": "United States",
    },
    "priya": {
        "first_name": "Priya",
        "last_name": "Shah",
        "phone": "+44 20 7946 0522",
        "email": "priya.shah@example.com",
    },
    "northwind": {
        "first_name": "",
        "organization": "Northwind Bakery",
        "phone": "+44 113 496 0301",
        "email": "hello@northwind-bakery.example",
        "city": "Leeds",
        "country": "United Kingdom",
    },
}


@dataclass(frozen=True)
class SeededStudio:
    """The ids the seed made, by the short names used above. The studio draws them (users'
    too: a profile id is ``<studio>.<user id>``), so they differ from one seeded file to the
    next: read them here."""

    users: dict[str, int]
    clients: dict[str, int]
    weddings_group: int
    sessions: list[int]
    appointments: list[int]


def seed_demo_studio(studio: Studio, *, now: datetime) -> SeededStudio:
    """Fill an empty ``studio`` with the demo studio, dated from ``now``."""
    today = now.date()

    def at(days: int, hour: int, minute: int, zone: str, hours: float) -> Span:
        start = datetime.combine(today + timedelta(days=days), time(hour, minute))
        return Span(start, start + timedelta(hours=hours), zone)

    def days(first: int, count: int = 1) -> Span:
        return Span(today + timedelta(days=first), today + timedelta(days=first + count))

    users = {key: studio.add_user(name, email) for key, (name, email) in USERS.items()}
    clients = {key: studio.add_client(**columns) for key, columns in CLIENTS.items()}
    weddings = studio.add_group(WEDDINGS)
    for key in ("harriet", "oliver", "sofia"):
        studio.add_to_group(weddings, clients[key])

    ann, ben, cara = users["ann"], users["ben"], users["cara"]
    c = clients
    sessions = [
        studio.book_session(ann, c["harriet"], "Engagement", at(3, 10, 0, LONDON, 2),
                            location="Studio A", status="confirmed"),
        studio.book_session(ann, c["priya"], "Headshots", at(6, 14, 0, LONDON, 1),
                            location="Studio B", notes="Two outfits, plain grey backdrop."),
        studio.book_session(ann, c["oliver"], "Wedding", at(17, 11, 0, LONDON, 9),
                            location="St Mary Redcliffe, Bristol", status="confirmed"),
        studio.book_session(ann, c["sofia"], "Destination wedding", days(24, 2),
                            location="Brooklyn Botanic Garden", notes="Rehearsal day included."),
        studio.book_session(ben, c["daniel"], "Corporate portraits", at(2, 9, 30, NEW_YORK, 1.5),
                            location="Okafor Architects, 300 Park Avenue South"),
        studio.book_session(ben, c["sofia"], "Engagement", at(9, 16, 0, NEW_YORK, 2),
                            location="Central Park, Bow Bridge", status="confirmed"),
        studio.book_session(ben, c["northwind"], "Product shoot", days(12),
                            location="Northwind Bakery, Leeds"),
        studio.book_session(cara, c["harriet"], "Album review", at(5, 13, 0, LONDON, 1),
                            location="Studio A"),
    ]  # fmt: skip
    appointments = [
        studio.add_appointment(ann, "Studio deep clean", days(1)),
        studio.add_appointment(ann, "Staff meeting", at(4, 9, 0, LONDON, 0.5), location="Office"),
        studio.add_appointment(ben, "Camera service", days(7), location="Adorama, W 18th St"),
        studio.add_appointment(ben, "Lunch with venue coordinator", at(14, 12, 0, NEW_YORK, 1)),
        studio.add_appointment(cara, "Holiday", days(8, 3)),
    ]

    def primary(user: str) -> str:  # a primary calendar's id is its account's address
        return USERS[user][1]

    studio.set_google_prefs(
        ann,
        GooglePrefs(
            sync_on=True,
            calendar_id=primary("ann"),
            sync_contacts=True,
            client_sync_group=WEDDINGS,
            notify_problems=True,
        ),
    )
    studio.set_google_prefs(
        ben,
        GooglePrefs(
            sync_on=True, calendar_id=primary("ben"), sync_back_calendar=True, notify_problems=True
        ),
    )
    studio.set_google_prefs(
        cara, GooglePrefs(sync_on=True, calendar_id=primary("cara"), notify_problems=True)
    )

    return SeededStudio(users, clients, weddings, sessions, appointments)
