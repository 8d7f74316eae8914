from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "webapp.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        # Registered on import: the login signal's receiver and the schema's token scheme.
        from webapp.accounts import schema, signals  # noqa: F401
