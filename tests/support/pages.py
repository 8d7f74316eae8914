"""The site's pages as a browser without JavaScript uses them."""

import re


def submit_form(client, **data) -> str:
    """A job submitted through the home page's form; returns its id."""
    response = client.post("/", {"claps": 3, "note": "", **data})
    assert response.status_code == 302, response.content.decode()[:2000]
    return re.fullmatch(r"/claps/([0-9a-f-]+)/", response["Location"]).group(1)
