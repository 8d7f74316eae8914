"""What a process costs, from /proc: CPU time and resident memory; and which process
listens on a port, to weigh a service (PostgreSQL, the broker) with its children."""

import os


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (field 3 onwards)."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def _ticks(fields: list[str], reaped: bool = False) -> int:
    own = int(fields[11]) + int(fields[12])  # utime + stime
    return own + (int(fields[13]) + int(fields[14]) if reaped else 0)  # + cutime + cstime


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far."""
    return _ticks(_stat(pid)) / os.sysconf("SC_CLK_TCK")


def workers_and_recorders_cpu(group) -> dict[str, float]:
    """CPU seconds so far of the running workers and recorders of a ProcessGroup
    (children named worker-N and recorder[-N])."""
    used = {"workers": 0.0, "recorders": 0.0}
    for name, child in group.children.items():
        if name.startswith(("worker", "recorder")) and child.running:
            used["workers" if name.startswith("worker") else "recorders"] += cpu_seconds(
                child.proc.pid
            )
    return used


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds of the process and every live descendant, each with its reaped
    children's (PostgreSQL's backends come and go with their connections)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for pid in _pids():
        try:
            fields = _stat(pid)
        except OSError:  # gone meanwhile
            continue
        parents[pid], ticks[pid] = int(fields[1]), _ticks(fields, reaped=True)
    if root not in ticks:
        raise LookupError(f"no process {root}")

    def under_root(pid: int) -> bool:
        while pid and pid != root:
            pid = parents.get(pid, 0)
        return pid == root

    return sum(t for pid, t in ticks.items() if under_root(pid)) / os.sysconf("SC_CLK_TCK")


def listening_pid(port: int) -> int | None:
    """The process with a TCP socket listening on the port, if it is on this machine
    and visible to us."""
    sockets = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as rows:
                next(rows)
                for row in rows:
                    fields = row.split()
                    local, state, inode = fields[1], fields[3], fields[9]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # LISTEN
                        sockets.add(f"socket:[{inode}]")
        except FileNotFoundError:
            continue
    for pid in _pids() if sockets else []:
        if sockets.intersection(_open_files(pid)):
            return pid
    return None


def _open_files(pid: int) -> set[str]:
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:  # gone, or not ours to read
        return set()
    links = set()
    for fd in fds:
        try:
            links.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:  # closed meanwhile
            continue
    return links


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise LookupError(f"no VmRSS for process {pid}")
