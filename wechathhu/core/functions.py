"""Database functions the ORM lacks, for every engine the project runs on."""

from django.db.models import BigIntegerField, Func


class EpochSeconds(Func):
    """A datetime column as whole POSIX seconds, computed by the database.

    For hot reads of many rows that only do arithmetic on the times: the ORM would turn each value
    into an aware ``datetime`` first. Django stores datetimes in UTC on every engine, so the
    difference from the epoch is zone-independent; fractions of a second are dropped.
    """

    output_field = BigIntegerField()
    arity = 1
    # PostgreSQL (and the generic form); MySQL/MariaDB and SQLite have their own below.
    template = "CAST(EXTRACT(EPOCH FROM %(expressions)s) AS BIGINT)"

    def get_db_converters(self, connection):
        # Every engine already answers an integer; the ORM would call int() on each value again.
        return []

    def as_mysql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', %(expressions)s)"
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django stores 'YYYY-MM-DD HH:MM:SS[.ffffff]'; SQLite would round the fraction, so it is
        # cut off. The format goes as a parameter: a literal '%s' would read as a placeholder.
        sql, params = compiler.compile(self.source_expressions[0])
        return f"CAST(strftime(%s, substr({sql}, 1, 19)) AS INTEGER)", ("%s", *params)
