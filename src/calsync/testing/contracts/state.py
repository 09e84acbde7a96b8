"""The :class:`~calsync.state.base.StateStore` contract, as a pytest suite.

Subclass :class:`StateStoreContract` in a test module (name the subclass ``Test…``) and give it a
``store`` fixture that yields a fresh, empty store and closes it afterwards::

    class TestPostgresStateStore(StateStoreContract):
        @pytest.fixture
        def store(self, postgres_dsn: str) -> Iterator[StateStore]:
            with PostgresStateStore(postgres_dsn, schema=fresh_schema()) as store:
                yield store

Every test below is one documented behaviour calsync relies on. Where the docstrings of
``StateStore`` leave a choice open, the suite pins the one calsync's stores make and says so:

* a lease is valid *until* its expiry instant, not at it;
* an exception leaving a nested transaction undoes that nested transaction's writes; the
  outer transaction goes on (or is undone too, if the exception leaves it as well);
* naive datetimes are refused with :class:`ValueError` (their zone would be a guess);
* datetimes come back as aware UTC datetimes, to the microsecond.
"""

from __future__ import annotations

from calsync.testing.contracts.state_bulk import BulkContract
from calsync.testing.contracts.state_leases import LeaseContract
from calsync.testing.contracts.state_mappings import MappingContract
from calsync.testing.contracts.state_support import (
    T0,
    TTL,
    make_mapping_row,
    make_pending,
    make_push_channel,
)
from calsync.testing.contracts.state_transactions import TransactionContract
from calsync.testing.contracts.state_values import ValuesContract

__all__ = [
    "T0",
    "TTL",
    "StateStoreContract",
    "make_mapping_row",
    "make_pending",
    "make_push_channel",
]


class StateStoreContract(
    MappingContract, ValuesContract, BulkContract, TransactionContract, LeaseContract
):
    """Behaviours every :class:`~calsync.state.base.StateStore` must have. Subclasses provide
    a ``store`` fixture."""
