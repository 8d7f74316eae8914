"""The broker's classpath: Apache Kafka's jars, fetched by Maven into a cache once."""

import functools
import os
import re
import shutil
import subprocess
from pathlib import Path

from tools.broker import BrokerError
from tools.broker.java import MISSING_TOOLS

POM = Path(__file__).with_name("pom.xml")


@functools.cache
def kafka_version() -> str:
    return re.search(r"<kafka.version>(.+?)</kafka.version>", POM.read_text()).group(1)


def cache_home() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "clapstream"
    return Path(os.environ.get("CLAPSTREAM_CACHE", default))


def fetch_jars(home: Path | None = None) -> Path:
    """Resolve the broker's classpath into the cache once; return the jar directory."""
    version = kafka_version()
    libs = (home or cache_home()) / f"kafka-{version}" / "libs"
    done = libs / ".complete"
    if done.exists():
        return libs
    mvn = shutil.which("mvn")
    if not mvn:
        raise BrokerError(f"Maven not found: {MISSING_TOOLS}")
    print(f"fetching Apache Kafka {version} jars into {libs} (once)", flush=True)
    libs.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(POM),
            "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={libs}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BrokerError(f"Maven could not fetch the Kafka jars:\n{result.stdout}{result.stderr}")
    done.touch()
    return libs
