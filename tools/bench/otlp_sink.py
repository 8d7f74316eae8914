"""A local OTLP/HTTP endpoint that accepts span exports and only counts them, so a
benchmark pays the full cost of exporting without a collector.

It runs as a process of its own, as a collector would: inside the benchmark's
process its HTTP server would take the interpreter lock from the bench's publisher.
`python -m tools.bench.otlp_sink` prints its port, then, at SIGTERM, what it took.
"""

import signal
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class OtlpSink:
    """The sink as a child process, for a `with` block."""

    def __enter__(self) -> "OtlpSink":
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tools.bench.otlp_sink"],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        self.endpoint = f"http://127.0.0.1:{int(self._proc.stdout.readline())}"
        self.summary = ""
        return self

    def __exit__(self, *exc) -> None:
        self._proc.terminate()
        self.summary = self._proc.communicate(timeout=30)[0].strip()


def serve() -> None:
    took = {"exports": 0, "bytes": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            took["exports"] += 1
            took["bytes"] += len(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    def stop(*_):
        print(f"the sink took {took['exports']:,} exports, {took['bytes']:,} bytes", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    serve()
