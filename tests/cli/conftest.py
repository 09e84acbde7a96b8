"""Put the repository's ``examples/`` on the import path: the operator-flow tests set up the
demo studio with ``init_demo`` as an administrator following docs/cli.md would."""

from __future__ import annotations

import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))
