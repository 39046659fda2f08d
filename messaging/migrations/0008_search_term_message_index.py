# The search index's second covering index, (message, term, weight): a one-character query sums a
# message's terms starting with the character from it. It starts with the foreign key, so the key's
# own index goes; created first, as MariaDB keeps an index for the constraint at every step.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0007_comments_polls"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="messagesearchterm",
            index=models.Index(fields=["message", "term", "weight"], name="message_search_message"),
        ),
        migrations.AlterField(
            model_name="messagesearchterm",
            name="message",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="search_terms",
                to="messaging.message",
                verbose_name="消息",
            ),
        ),
    ]
