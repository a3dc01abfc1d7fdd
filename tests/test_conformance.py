"""The built-in backends (local, memory, S3 on moto) against the conformance suite;
`store_spec` comes parametrised from conftest.py."""

from pool_profiles.testing.conformance import StoreConformance


class TestBuiltinBackends(StoreConformance):
    pass
