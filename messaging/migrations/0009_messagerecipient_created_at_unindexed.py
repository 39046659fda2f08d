"""Drop the index on ``MessageRecipient.created_at`` (issue 18 item 3).

No query reads recipient rows by creation time, and every recipient row written also wrote an entry
into that index: a 10 000-user send took about twice as long with it (bench/README.md).

Only the index goes, by its name: Django's ``AlterField`` would rebuild the whole table on SQLite
(millions of rows), while ``DROP INDEX`` is immediate on SQLite and in place on MariaDB.
"""

from django.db import migrations, models

TABLE = "messaging_messagerecipient"


def _created_at_indexes(schema_editor) -> list[str]:
    """The names of the plain indexes on ``created_at`` alone (one, named by Django)."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    return sorted(
        name
        for name, info in constraints.items()
        if info["index"]
        and info["columns"] == ["created_at"]
        and not info["unique"]
        and not info["primary_key"]
    )


def drop_index(apps, schema_editor):
    model = apps.get_model("messaging", "MessageRecipient")
    for name in _created_at_indexes(schema_editor):
        schema_editor.remove_index(model, models.Index(fields=["created_at"], name=name))


def restore_index(apps, schema_editor):
    model = apps.get_model("messaging", "MessageRecipient")
    if not _created_at_indexes(schema_editor):
        name = schema_editor._create_index_name(TABLE, ["created_at"])
        schema_editor.add_index(model, models.Index(fields=["created_at"], name=name))


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0008_search_term_message_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="messagerecipient",
                    name="created_at",
                    field=models.DateTimeField(auto_now_add=True, verbose_name="创建时间"),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_index, restore_index, elidable=False),
            ],
        ),
    ]
