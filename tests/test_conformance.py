"""The built-in backends (local, memory, S3 on moto) against the conformance suite;
`store_spec` comes parametrised from conftest.py. Then S3 on SeaweedFS."""

import pytest

from pool_profiles.testing.conformance import StoreConformance


class TestBuiltinBackends(StoreConformance):
    pass


class TestSeaweedFS(StoreConformance):
    """The S3 backend against SeaweedFS, a real S3 server (not a mock)."""

    @pytest.fixture
    def store_spec(self, seaweed_spec):
        return seaweed_spec
