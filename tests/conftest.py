from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

settings.register_profile(
    "default",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("default")


@pytest.fixture(scope="session")
def fixture_scale_path() -> Path:
    return FIXTURES / "scales" / "fixture_full.yaml"


# the archive tests' fixtures (SQLite and PostgreSQL backends, sample answers)
from archive_fixtures import archive_answers, archive_target  # noqa: E402, F401
