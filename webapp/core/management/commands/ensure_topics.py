from confluent_kafka import KafkaException
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from streams.topics import ensure_topics


class Command(BaseCommand):
    help = "Create the project's Kafka topics, or grow their partition counts, idempotently."

    def handle(self, *args, **options):
        try:
            report = ensure_topics(settings.KAFKA)
        except KafkaException as exc:
            raise CommandError(
                f"Kafka at {settings.KAFKA.bootstrap_servers} did not answer: {exc}"
            ) from exc
        for line in report:
            self.stdout.write(line)
