from tests.pipeline.conftest import isolated_kafka  # noqa: F401 - a shared fixture
