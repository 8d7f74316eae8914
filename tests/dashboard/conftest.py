from datetime import timedelta

import pytest

from webapp.dashboard.sampler import Sampler


@pytest.fixture
def sampler(isolated_kafka):
    s = Sampler(isolated_kafka, retention=timedelta(hours=1))
    yield s
    s.close()
