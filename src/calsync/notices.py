"""When a user hears about a problem: when it starts or changes, then at most one reminder a
day while it lasts, and one note when it clears.

A problem is named by a digest of what the run found wrong (the status calsync gave the
profile, the failure, each failing item and the kind of its error, each held deletion, each
channel the Google authorisation does not allow, each warning and conflict), never by
details that change from run to run (exception text, ids, the engine's step that met the
error). Items Google could not take now (a 5xx, a timeout, a rate limit: the error is
``transient``) are named by their channel alone: while Google is flaky, each run fails a
different handful of items, and that storm is one problem, not a new one every run. The email
still lists the items of its run. The processor keeps the last notice sent per profile in the
state store (:meth:`~calsync.state.base.StateStore.get_sent_notice`), under the profile's
lease, so a restart or another runner does not send it again.

    due = notice_due(store.get_sent_notice(profile.id), report, status, now, remind_every)
    sent = notifier.notify(profile, report, trace, due.notice)
    if due.changed and (due.notice is None or sent):  # recorded only once sent
        store.set_sent_notice(profile.id, due.record)

A problem that clears by itself (a failed run, failing items: calsync tries again) is only
told cleared once it has stayed away for :data:`SETTLE` (an hour): a failure that comes and goes
is one problem, not a "problem" and a "working again" email every other run. The processor
keeps when a run last found it (:class:`Settling`, the cursor ``notify:settling``) and asks
:func:`notice_after`; :func:`notice_due` alone tells a clearing at once. A problem that waits
for the user (a status such as ``needs_reauth``, held deletions, a channel Google's
authorisation does not give access to) is told cleared at the first run that finds it gone: the
user acted. A channel not allowed, alone, is never reminded of (:data:`NOT_AUTHORISED`).

While a problem lasts, a run emails only when it finds what the user has not heard of lately
(:func:`_fresh`): a lasting line neither in the problem told nor found by a run within
:data:`SETTLE`, or news not told yet. A part that goes, or comes back within :data:`SETTLE`,
changes the record (its digest, keeping the time of the last email) without an email: an item
Google refuses for good beside a storm that comes and goes every other run is the refusal and
the storm told once each, not a problem email at every run. :class:`Settling` keeps each lasting
line (:func:`_line_id`) and when a run last found it, for a problem that waits for the user too.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from attrs import field, frozen

from calsync.engine.report import ItemError, SyncReport
from calsync.model import Channel
from calsync.profile import ProfileStatus
from calsync.state.base import SentNotice

__all__ = ["DEFAULT_REMINDER", "SETTLE", "Notice", "NoticeDue", "notice_due", "problems_of"]

#: How long a lasting problem goes before the user is reminded of it.
DEFAULT_REMINDER = timedelta(days=1)

#: How long a problem that clears by itself (a failed run, failing items) must stay away
#: before the user is told "Google Sync is working again"; the same problem coming back
#: meanwhile is the problem already told, not a new one.
SETTLE = timedelta(hours=1)


class Notice(enum.Enum):
    """What a problem email says."""

    #: a new problem, or a different one from the last email
    PROBLEM = "problem"
    #: the same problem, still there a reminder interval after the last email
    REMINDER = "reminder"
    #: the problem the last email was about has cleared (the email also carries any one-off
    #: news of the run that found it cleared: a warning, a conflict)
    RESOLVED = "resolved"


@frozen
class NoticeDue:
    """What to tell the user after a run, and what to remember once it was sent.

    Attributes:
        notice: the email due now (``None``: nothing new to say).
        record: what the store should hold afterwards (``None``: nothing outstanding).
        changed: ``record`` differs from what the store holds.
    """

    notice: Notice | None
    record: SentNotice | None
    changed: bool


@frozen
class Settling:
    """A lasting problem told and not yet told cleared, and what of it the user has heard.

    Attributes:
        seen: when a run last found it.
        told: one-off news (warnings, conflicts; :func:`_line_id` of each line) the user has
            been told while it lasts, so news a run repeats is told once.
        lines: each line of it (:func:`_line_id`) and when a run last found it: the lines of
            the last run that found it, and lines gone for less than :data:`SETTLE`, which
            are the problem already told when they come back. Not compared: a run that
            changes them also moves ``seen``.
        waits: it waits for the user (a status, held deletions, a channel not allowed), so
            it is told cleared at the first run without it, not after :data:`SETTLE`.
    """

    seen: datetime
    told: frozenset[str] = frozenset()
    lines: Mapping[str, datetime] = field(factory=dict, eq=False)
    waits: bool = False

    def to_json(self) -> str:
        data: dict[str, object] = {"seen": self.seen.isoformat(), "told": sorted(self.told)}
        data["lines"] = {line: when.isoformat() for line, when in sorted(self.lines.items())}
        if self.waits:
            data["waits"] = True
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> Settling:
        """Read back what :meth:`to_json` wrote, or what it wrote before it kept ``lines`` and
        ``waits`` (the last run's lines then unknown: see :func:`_fresh`)."""
        data = json.loads(text)
        lines = {line: datetime.fromisoformat(when) for line, when in data.get("lines", {}).items()}
        return cls(
            datetime.fromisoformat(data["seen"]),
            frozenset(data.get("told", ())),
            lines,
            bool(data.get("waits", False)),
        )

    def known(self, now: datetime, settle: timedelta) -> frozenset[str]:
        """The lines the user has been told of and needs not hear of again now: those of the
        last run that found the problem, and those gone for less than ``settle``."""
        return frozenset(
            line for line, when in self.lines.items() if when == self.seen or now - when < settle
        )


def _reason(fatal: str, unavailable: Iterable[Channel] = ()) -> str:
    """A failure without its details (exception text, ids), which change from run to run,
    and without the channels that stopped because Google could not answer now
    (``unavailable``: named as their items are, :func:`_error_line`), whose part of the
    failure says ``"<channel> sync …"`` (``SyncEngine._channel_failed``)."""
    stopped = tuple(f"{channel.value} sync " for channel in unavailable)
    reasons = [part.split(": ", 1)[0] for part in fatal.split("; ")]
    return "; ".join(reason for reason in reasons if not reason.startswith(stopped))


def _lasting_lines(report: SyncReport, status: ProfileStatus) -> set[str]:
    """Problems that stay until they clear or someone acts."""
    found = set()
    if status is not ProfileStatus.OK:
        found.add(f"status: {status.value}")
    if report.fatal and (reason := _reason(report.fatal, report.unavailable)):
        found.add(f"failed: {reason}")
    # a channel Google could not answer now is named as the items it could not take now
    # are: a flaky Google fails a whole run one time and a few items the next, one problem
    found.update(f"error: {channel.value} {TRANSIENT}" for channel in report.unavailable)
    found.update(_error_line(error) for error in report.errors)
    found.update(f"held: {h.channel.value} {h.side.value} {h.item}" for h in report.held)
    found.update(f"{NOT_AUTHORISED}{channel.value}" for channel in report.not_authorised)
    return found


#: How the items of a channel Google could not take now are named, whichever they are, and
#: the channel when it could not answer at all.
TRANSIENT = "(Google could not answer now)"


def _error_line(error: ItemError) -> str:
    """A failing item: by the item and the kind of its error, not by the engine's step
    ("create …", "read …"), which changes from run to run while the same item fails for the
    same reason; an item Google could not take now by its channel alone (not the item, nor
    the 503, timeout or rate limit met, which change from run to run while Google is flaky)."""
    if error.transient:
        return f"error: {error.channel.value} {TRANSIENT}"
    return f"error: {error.channel.value} {error.item} {_reason(error.message)}"


#: A channel the user's Google authorisation does not give access to: it lasts until the user
#: reconnects Google, and is told once, never reminded of (the user may not want that
#: channel at all; the host shows it meanwhile), then told cleared.
NOT_AUTHORISED = "not authorised: "


def _reminded(lasting: set[str]) -> bool:
    """Whether a lasting problem is worth a reminder: not when all it is is a channel the
    user has not allowed in Google."""
    return any(not line.startswith(NOT_AUTHORISED) for line in lasting)


def _news_lines(report: SyncReport) -> set[str]:
    """One-off news: a warning, a settled conflict (told once, no "resolved" note)."""
    found = {f"warning: {w}" for w in report.warnings}
    found.update(
        f"conflict: {c.channel.value} {c.item} {c.field} {c.host!r} {c.remote!r}"
        for c in report.conflicts
    )
    return found


def problems_of(report: SyncReport, status: ProfileStatus = ProfileStatus.OK) -> list[str]:
    """What the run found wrong, one line per problem, sorted (empty: nothing)."""
    return sorted(_lasting_lines(report, status) | _news_lines(report))


def _digest(lines: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()[:32]


def _line_id(line: str) -> str:
    return hashlib.sha256(line.encode()).hexdigest()[:16]


def _clears_by_itself(report: SyncReport, status: ProfileStatus) -> bool:
    """A lasting problem calsync retries by itself, as opposed to one waiting for the user."""
    return status is ProfileStatus.OK and not report.held and not report.not_authorised


def notice_due(
    previous: SentNotice | None,
    report: SyncReport,
    status: ProfileStatus,
    now: datetime,
    remind_every: timedelta | None = DEFAULT_REMINDER,
) -> NoticeDue:
    """The notice a run calls for, given the last one sent (``remind_every=None``: never
    remind).

    A lasting problem is told cleared at the first run without it (with that run's one-off
    news, if any, in the same note); the processor waits for a problem that clears by itself
    to stay away (:func:`notice_after`).
    """
    return notice_after(previous, None, report, status, now, remind_every)[0]


def notice_after(
    previous: SentNotice | None,
    settling: Settling | None,
    report: SyncReport,
    status: ProfileStatus,
    now: datetime,
    remind_every: timedelta | None = DEFAULT_REMINDER,
    settle: timedelta = SETTLE,
) -> tuple[NoticeDue, Settling | None]:
    """The notice a run calls for, and what to remember of the problem told (``settling``:
    what was remembered; ``None`` when there is none, or when it was never recorded, which
    tells a clearing at once).

    Both are stored once the notice was sent (or when none is due), neither otherwise.
    """
    lasting = _lasting_lines(report, status)
    news = _news_lines(report)
    outstanding = previous is not None and previous.lasting
    if lasting:
        return _lasting_notice(
            previous if outstanding else None,
            settling if outstanding else None,
            lasting,
            news,
            _clears_by_itself(report, status),
            now,
            remind_every,
            settle,
        )
    if outstanding and settling is not None and not settling.waits and now - settling.seen < settle:
        # it cleared moments ago and may come back: wait before saying it works again; news
        # of this run not told yet goes out on its own
        new = frozenset(_line_id(line) for line in news) - settling.told
        waiting = Settling(settling.seen, settling.told | new, settling.lines)
        return NoticeDue(Notice.PROBLEM if new else None, previous, False), waiting
    news_record = SentNotice(_digest(news), now, lasting=False) if news else None
    if outstanding:  # "working again", with the run's one-off news if any
        return NoticeDue(Notice.RESOLVED, news_record, True), None
    if news_record is None:
        return NoticeDue(None, None, previous is not None), None
    if previous is None or previous.problem != news_record.problem:
        return NoticeDue(Notice.PROBLEM, news_record, True), None
    if remind_every is not None and now - previous.sent_at >= remind_every:
        return NoticeDue(Notice.REMINDER, news_record, True), None
    return NoticeDue(None, previous, False), None


def _lasting_notice(
    outstanding: SentNotice | None,
    settling: Settling | None,
    lasting: set[str],
    news: set[str],
    clears_by_itself: bool,
    now: datetime,
    remind_every: timedelta | None,
    settle: timedelta,
) -> tuple[NoticeDue, Settling]:
    """The notice for a run that found a lasting problem (``outstanding``: the problem told
    and not yet told cleared, if any; ``settling``: what was remembered of it).

    A problem email is due when the run finds something the user has not heard of lately
    (:func:`_fresh`); a problem that changes otherwise (a line gone, or back within
    :data:`SETTLE`) is recorded without an email, keeping the time of the last one, so the
    daily reminder keeps its rhythm and the "working again" note still follows.
    """
    problem = _digest(lasting | news)
    told = settling.told if settling is not None else frozenset()
    news_ids = frozenset(map(_line_id, news))
    notice: Notice | None
    if outstanding is None or _fresh(outstanding, settling, lasting, news, now, settle):
        notice, record = Notice.PROBLEM, SentNotice(problem, now, lasting=True)
    elif (
        remind_every is not None
        and now - outstanding.sent_at >= remind_every
        and _reminded(lasting)
    ):
        notice, record = Notice.REMINDER, SentNotice(problem, now, lasting=True)
    else:
        notice, record = None, SentNotice(problem, outstanding.sent_at, lasting=True)
    if notice is not None:
        told |= news_ids
    # the lines of this run, and those gone for less than SETTLE (they may come back)
    kept = settling.lines if settling is not None else {}
    lines = {line: when for line, when in kept.items() if now - when < settle}
    lines.update(dict.fromkeys(map(_line_id, lasting), now))
    after = Settling(now, told, lines, waits=not clears_by_itself)
    return NoticeDue(notice, record, record != outstanding), after


def _fresh(
    outstanding: SentNotice,
    settling: Settling | None,
    lasting: set[str],
    news: set[str],
    now: datetime,
    settle: timedelta,
) -> bool:
    """Whether a run finds what the user has not heard of lately, beside the problem told: a
    lasting line neither of that problem nor gone for less than ``settle`` (a failure that
    comes and goes beside a lasting one is the problem told, not a new one every other run),
    or news not told yet. A run that finds just what was told is not (what tells it when the
    lines were not remembered: a settling problem stored before they were, or none stored).
    """
    if outstanding.problem == _digest(lasting | news):
        return False
    known = settling.known(now, settle) if settling is not None else frozenset()
    told = settling.told if settling is not None else frozenset()
    return bool(frozenset(map(_line_id, lasting)) - known or frozenset(map(_line_id, news)) - told)
