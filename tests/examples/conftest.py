"""Put the repository's ``examples/`` on the import path, so tests import ``studio.db`` and
``studio.adapters`` as a host application would import its own modules."""

from __future__ import annotations

import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))
