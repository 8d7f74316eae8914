import pytest

from tests.support.workers import Outputs, Processes, fast_group, private_config, settings_for


@pytest.fixture
def config(kafka):
    config = private_config(kafka)
    fast_group(config)
    return config


@pytest.fixture
def outputs(config):
    out = Outputs(config)
    yield out
    out.close()


@pytest.fixture
def processes(config, tmp_path):
    procs = Processes(config, tmp_path)
    yield procs
    procs.stop_all()


@pytest.fixture
def start_worker(config, tmp_path):
    """Start in-process workers on the test's topics; tests drive them with step()."""
    from worker.app import Worker

    workers = []

    def start(**overrides):
        worker = Worker(settings_for(tmp_path, **overrides), config)
        worker.start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
