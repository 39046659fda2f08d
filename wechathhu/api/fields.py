from datetime import datetime

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


@extend_schema_field(OpenApiTypes.DATETIME)
class PortalDateTimeField(serializers.DateTimeField):
    """A datetime between the years 2000 and 2100.

    Anything else is a typing mistake; before 1901 the Asia/Shanghai zone also has a local-mean-time
    offset (+08:05:43) that no RFC 3339 client can read back.
    """

    default_error_messages = {"out_of_range": f"时间必须在 {EARLIEST_YEAR} 年至 {LATEST_YEAR} 年之间。"}

    def to_internal_value(self, value):
        return self.enforce_range(super().to_internal_value(value))

    def enforce_range(self, parsed: datetime) -> datetime:
        """``parsed`` when its local (Asia/Shanghai) year is in range, else the field's 400."""
        if not EARLIEST_YEAR <= timezone.localtime(parsed).year <= LATEST_YEAR:
            self.fail("out_of_range")
        return parsed
