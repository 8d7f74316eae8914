"""A minimal Kubernetes API client over the admin's client certificate (no dependency)."""

import http.client
import json
import ssl
from urllib.parse import urlencode

FIELD_MANAGER = "clapstream-cluster"


class ApiError(RuntimeError):
    def __init__(self, status: int, method: str, path: str, body: str):
        super().__init__(f"{method} {path}: {status} {body[:500]}")
        self.status = status


class Api:
    def __init__(self, host: str, port: int, ca: str, cert: str, key: str, timeout: float = 10):
        self.host, self.port, self.timeout = host, port, timeout
        self.context = ssl.create_default_context(cafile=ca)
        self.context.load_cert_chain(cert, key)

    def request(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        content_type: str = "application/json",
        **query,
    ) -> dict:
        if query:
            path = f"{path}?{urlencode(query)}"
        conn = http.client.HTTPSConnection(
            self.host, self.port, context=self.context, timeout=self.timeout
        )
        try:
            payload = json.dumps(body).encode() if body is not None else None
            headers = {"Accept": "application/json"}
            if payload is not None:
                headers["Content-Type"] = content_type
            conn.request(method, path, payload, headers)
            response = conn.getresponse()
            data = response.read().decode()
        finally:
            conn.close()
        if response.status >= 400:
            raise ApiError(response.status, method, path, data)
        return json.loads(data) if data.startswith("{") else {"raw": data}

    def get(self, path: str, **query) -> dict | None:
        """The object at path, or None if there is none."""
        try:
            return self.request("GET", path, **query)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def apply(self, path: str, obj: dict) -> dict:
        """Server-side apply of obj at its own path (JSON is YAML)."""
        return self.request(
            "PATCH",
            path,
            obj,
            content_type="application/apply-patch+yaml",
            fieldManager=FIELD_MANAGER,
            force="true",
        )


def condition(obj: dict | None, kind: str) -> str | None:
    """The status ("True", "False", "Unknown") of a condition of obj, if it has one."""
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return c.get("status")
    return None
