import pytest
from fastapi import FastAPI

from app.config import Settings, settings_dependency
from tests.onboarding.factories import link_settings


@pytest.fixture
def settings(app: FastAPI) -> Settings:
    """The app's settings, with the download links and the public base URL filled in."""
    value = link_settings()
    app.dependency_overrides[settings_dependency] = lambda: value
    return value
