"""The site's server: daphne, with HTTP requests whose body Twisted leaves to the site.

    python -m webapp.server <daphne's options> webapp.asgi:application

Twisted's HTTP request, which daphne's extends, parses a POST's Content-Type with the
email package and a form or multipart body into `request.args` before daphne sees the
request. daphne never reads those args: it hands the raw body to the site, and Django
parses it again. The Content-Type parse alone was several per cent of a web process's
CPU under load (docs/benchmarks.md), a form body was held twice in memory, and a
multipart body Twisted could not parse got Twisted's bare 400 instead of the site's
answer saying what is wrong.
"""

import daphne.server
from daphne.cli import CommandLineInterface
from daphne.http_protocol import HTTPFactory, WebRequest

from webapp.core.startup import refusing_bad_configuration


class BodyForTheSite(WebRequest):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, parsePOSTFormSubmission=False, **kwargs)


class SiteHTTPFactory(HTTPFactory):
    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = BodyForTheSite
        return protocol


def main() -> None:
    # daphne's Server builds its factory from this module-level name when it runs.
    daphne.server.HTTPFactory = SiteHTTPFactory
    with refusing_bad_configuration():
        CommandLineInterface.entrypoint()
    # A graceful stop (SIGTERM): the jobs still on their way are sent and the ones
    # delivered marked published, or the outbox sweep would send them all again.
    from webapp.claps.publisher import reset_publisher  # Django is set up by now

    reset_publisher()


if __name__ == "__main__":
    main()
