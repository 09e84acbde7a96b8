"""calsync: a calendar-and-contacts sync engine for studio-management hosts.

A host implements :class:`ScheduleSource` (and :class:`ContactSource` for contact sync),
chooses a :class:`StateStore`, and runs a :class:`SyncEngine` per profile against a
calendar backend (Google, or in memory for tests)::

    engine = SyncEngine(SqliteStateStore("calsync.sqlite3"), my_schedule, my_clients)
    report = engine.sync(profile, calendar_backend, contacts_backend)
    print(report.summary())
"""

from __future__ import annotations

from calsync.backends import (
    CalendarBackend,
    ContactsBackend,
    RemoteContact,
    RemoteEvent,
    RemoteListing,
)
from calsync.engine import SyncEngine, SyncReport
from calsync.errors import (
    AlreadyExists,
    AuthError,
    BackendError,
    CalendarGone,
    CalsyncError,
    ConfigurationError,
    InvalidHostItem,
    InvalidRequest,
    LeaseLost,
    NotConnected,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    QuotaExceeded,
    RateLimited,
    RunStopped,
    SchemaVersionError,
    SourceError,
    StateError,
    SyncTokenExpired,
    TemplateError,
    TransientError,
)
from calsync.model import (
    AllDay,
    Channel,
    ClientInfo,
    Contact,
    ContactFields,
    Email,
    EventFields,
    ItemKind,
    Marker,
    Phone,
    PostalAddress,
    ScheduleItem,
    Timed,
    TimeRange,
    When,
)
from calsync.notices import Notice
from calsync.notify import EmailNotifier, Notifier, SmtpSettings
from calsync.policies import (
    ConflictPolicy,
    DeletionRules,
    Direction,
    FieldConflict,
    FieldRules,
    RemoteDeletion,
    Side,
    abstain,
    google_wins,
    host_wins,
    merge_fields,
    newest_wins,
)
from calsync.processor import Connection, ProfileRun, SyncProcessor
from calsync.profile import (
    Notifications,
    ProfileStatus,
    ProfileStore,
    SyncOptions,
    SyncProfile,
    SyncWindow,
)
from calsync.sources import (
    ContactSource,
    ContactUpdate,
    HostChanges,
    ItemUpdate,
    ScheduleSource,
)
from calsync.state import MemoryStateStore, SqliteStateStore, StateStore
from calsync.templates import ItemTemplate, Template, TemplateSet
from calsync.tokens import MemoryTokenStore, SqliteTokenStore, StoredToken, TokenStore
from calsync.wording import Wording

__version__ = "0.1.0.dev0"

__all__ = [
    "AllDay",
    "AlreadyExists",
    "AuthError",
    "BackendError",
    "CalendarBackend",
    "CalendarGone",
    "CalsyncError",
    "Channel",
    "ClientInfo",
    "ConfigurationError",
    "ConflictPolicy",
    "Connection",
    "Contact",
    "ContactFields",
    "ContactSource",
    "ContactUpdate",
    "ContactsBackend",
    "DeletionRules",
    "Direction",
    "Email",
    "EmailNotifier",
    "EventFields",
    "FieldConflict",
    "FieldRules",
    "HostChanges",
    "InvalidHostItem",
    "InvalidRequest",
    "ItemKind",
    "ItemTemplate",
    "ItemUpdate",
    "LeaseLost",
    "Marker",
    "MemoryStateStore",
    "MemoryTokenStore",
    "NotConnected",
    "NotFound",
    "Notice",
    "Notifications",
    "Notifier",
    "PermissionDenied",
    "Phone",
    "PostalAddress",
    "PreconditionFailed",
    "ProfileRun",
    "ProfileStatus",
    "ProfileStore",
    "QuotaExceeded",
    "RateLimited",
    "RemoteContact",
    "RemoteDeletion",
    "RemoteEvent",
    "RemoteListing",
    "RunStopped",
    "ScheduleItem",
    "ScheduleSource",
    "SchemaVersionError",
    "Side",
    "SmtpSettings",
    "SourceError",
    "SqliteStateStore",
    "SqliteTokenStore",
    "StateError",
    "StateStore",
    "StoredToken",
    "SyncEngine",
    "SyncOptions",
    "SyncProcessor",
    "SyncProfile",
    "SyncReport",
    "SyncTokenExpired",
    "SyncWindow",
    "Template",
    "TemplateError",
    "TemplateSet",
    "TimeRange",
    "Timed",
    "TokenStore",
    "TransientError",
    "When",
    "Wording",
    "__version__",
    "abstain",
    "google_wins",
    "host_wins",
    "merge_fields",
    "newest_wins",
]
