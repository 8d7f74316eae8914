"""The clap worker: takes clap jobs from Kafka, performs them and reports progress.

Run it with `python -m worker`. It reads only Kafka (via streams/) and never imports
Django or touches a database, so replicas scale with the partition count alone.
"""
