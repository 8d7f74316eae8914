from tests.pipeline.conftest import isolated_kafka, stack  # noqa: F401 - shared fixtures
