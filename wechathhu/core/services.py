from collections.abc import Iterable
from typing import Any

from django.db import models


def model_update(*, instance: models.Model, fields: Iterable[str], data: dict[str, Any]) -> bool:
    """Set the given ``fields`` from ``data`` (missing keys are left alone), validate and save.

    Returns whether anything changed; only changed columns (plus ``updated_at``) are written.
    """
    changed = []
    for field in fields:
        if field in data and getattr(instance, field) != data[field]:
            setattr(instance, field, data[field])
            changed.append(field)
    if not changed:
        return False
    instance.full_clean()
    if any(f.name == "updated_at" for f in instance._meta.concrete_fields):
        changed.append("updated_at")
    instance.save(update_fields=changed)
    return True
