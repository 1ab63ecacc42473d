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


@pytest.fixture(autouse=True, scope="session")
def _private_definition_cache(tmp_path_factory):
    """Tests never read or write the user's cache of checked definitions (screening.loading.cache)."""
    import os

    before = os.environ.get("SCREENING_CACHE_DIR")
    os.environ["SCREENING_CACHE_DIR"] = str(tmp_path_factory.mktemp("definition-cache"))
    yield
    if before is None:
        os.environ.pop("SCREENING_CACHE_DIR", None)
    else:
        os.environ["SCREENING_CACHE_DIR"] = before
