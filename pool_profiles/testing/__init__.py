"""Test helpers a backend plugin can reuse: a moto S3 server and the Store
conformance suite (`pool_profiles.testing.conformance`)."""
