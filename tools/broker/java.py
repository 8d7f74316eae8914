"""The JVM that runs the broker: found on PATH, version checked, command line built."""

import re
import shutil
import subprocess
from pathlib import Path

from tools.broker import BrokerError

MISSING_TOOLS = "install Java 17+ and Maven, or set KAFKA_BOOTSTRAP_SERVERS to an existing cluster"
JVM_OPTS = [
    "-Xms512m",
    "-Xmx1g",
    "-server",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:TieredStopAtLevel=1",  # C1 only: starts faster on 2 cores, ample for local work
    "-Djava.awt.headless=true",
]


def java_major(java: str) -> int:
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return 0
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def require_java() -> str:
    java = shutil.which("java")
    if not java or java_major(java) < 17:
        raise BrokerError(f"Java 17+ not found: {MISSING_TOOLS}")
    return java


def java_command(java: str, libs: Path, data_dir: Path, *args: str) -> list[str]:
    """Run a Kafka main class with the broker's JVM options, classpath and logging."""
    return [
        java,
        *JVM_OPTS,
        f"-Dlog4j2.configurationFile={data_dir / 'log4j2.properties'}",
        f"-Dkafka.logs.dir={data_dir}",
        "-cp",
        f"{libs}/*",
        *args,
    ]
