"""The chaos suite's short form: scenario modules from scripts/chaos_suite, and the integration fixtures."""

from __future__ import annotations

from tests.integration.conftest import database_url, settings  # noqa: F401  (fixtures of the repros)
