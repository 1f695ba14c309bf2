"""The chaos suite's short form: scenario modules from scripts/chaos_suite, and the integration fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from tests.integration.conftest import database_url, settings  # noqa: F401  (fixtures of the repros)
