"""The example plugin runs the shared conformance suite against its own backend."""

import pytest

from pool_profiles.testing.conformance import StoreConformance
from pool_profiles.testing.spec import StoreSpec


class TestFolderBackend(StoreConformance):
    @pytest.fixture
    def store_spec(self, tmp_path):
        return StoreSpec(f"folder://{tmp_path}")
