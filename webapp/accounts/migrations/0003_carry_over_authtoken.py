"""API tokens used to be DRF's authtoken, stored in clear. Each existing one becomes
a hashed token (it keeps working), and the clear-text table is dropped."""

import hashlib

from django.db import migrations

OLD_TABLE = "authtoken_token"


def carry_over(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("accounts", "ApiToken")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {schema_editor.quote_name('key')}, user_id FROM {OLD_TABLE}")  # noqa: S608
        rows = cursor.fetchall()
    ApiToken.objects.using(connection.alias).bulk_create(
        ApiToken(
            user_id=user_id,
            name="API token (from before accounts)",
            digest=hashlib.sha256(key.encode()).hexdigest(),
            prefix=key[:8],
        )
        for key, user_id in rows
    )
    schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(OLD_TABLE)}")
    schema_editor.execute("DELETE FROM django_migrations WHERE app = %s", ["authtoken"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_shared_cache")]

    operations = [migrations.RunPython(carry_over, migrations.RunPython.noop)]
