"""Test helpers a backend plugin can reuse: a moto S3 server, fake-gcs-server
(`gcs_server`) and Azurite (`azurite`) started on 127.0.0.1, and the Store
conformance suite (`pool_profiles.testing.conformance`)."""
