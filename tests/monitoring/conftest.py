from tests.pipeline.conftest import isolated_kafka, stack  # noqa: F401 - fixtures for these tests
