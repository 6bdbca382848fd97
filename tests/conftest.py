"""Shared pytest fixtures.

The seed material (ClassAd corpus, CEDAR vectors, real submit/config files) lives in
``../shared`` beside the clone; ``PYHTC_SHARED`` overrides the location.
"""
import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
SHARED = pathlib.Path(os.environ.get("PYHTC_SHARED", REPO.parent / "shared")).resolve()

os.environ.setdefault("TZ", "UTC")


@pytest.fixture(scope="session")
def shared_dir() -> pathlib.Path:
    """Path of the shared seed material (../shared)."""
    if not SHARED.is_dir():
        pytest.fail(f"shared material not found at {SHARED} (set PYHTC_SHARED)")
    return SHARED
