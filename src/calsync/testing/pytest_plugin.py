"""The pytest plugin calsync registers (entry point ``pytest11``, named ``calsync``).

pytest rewrites ``assert`` statements, so that a failure shows the values compared, only in
test files, conftest files and plugins. The contract suites are none of these: they live in
the installed package, :mod:`calsync.testing.contracts`. This plugin registers them for
rewriting before any test module imports them, so a host whose adapter fails a contract test
sees what was expected and what its adapter gave, not a bare ``AssertionError``. (An
autoloaded plugin's distribution is marked for rewriting by pytest as well; the registration
here is what works when the plugin is loaded by name, ``-p calsync.testing.pytest_plugin``,
with ``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` set.)

Only pytest imports this module: pytest stays an optional dependency of calsync.
"""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("calsync.testing.contracts")
