"""Optional diagnostics middleware (enabled by the QUERY_COUNT_HEADER setting, off by default)."""

from django.db import connections


class QueryCountHeaderMiddleware:
    """Adds ``X-Query-Count``: the number of SQL statements the request ran (used by bench/).

    A connection is opened before counting starts, so the statements a new connection runs to set
    itself up (time zone, isolation level) are not counted: the figure is the request's own.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        for alias in connections:
            connections[alias].ensure_connection()
        wrappers = [connections[alias].execute_wrapper(counter) for alias in connections]
        for wrapper in wrappers:
            wrapper.__enter__()
        try:
            response = self.get_response(request)
        finally:
            for wrapper in reversed(wrappers):
                wrapper.__exit__(None, None, None)
        response["X-Query-Count"] = str(count)
        return response
