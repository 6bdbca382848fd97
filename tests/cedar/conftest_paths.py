"""Location of the shared CEDAR vectors (same rule as tests/conftest.py's ``shared_dir``)."""
from tests.conftest import SHARED

VECTOR_DIR = SHARED / "cedar" / "vectors"
AUTH_VECTOR_DIR = SHARED / "cedar" / "auth" / "vectors"
