"""Serializers that build their fields once per class, not once per request.

A ``ModelSerializer`` works its fields out from the model on every instantiation (field
mapping, labels, validators, translations): most of the time a small answer takes.
``FieldsOnceMixin`` keeps what the first instance built, unbound, and gives each instance
copies to bind, so nothing bound to one request is seen by another:

* a plain field is copied shallowly (a field's state is set at construction and by ``bind``,
  which writes to the copy);
* a field that binds a child of its own (a nested serializer, a ``many=True`` list, a
  ``ListField``/``DictField``, a many-to-many ``ManyRelatedField``) is copied deeply: DRF
  re-creates it from its arguments, child included.

Only for serializers whose fields depend on the class alone: not on ``context``, the instance
or constructor arguments (an override of ``get_fields`` that reads them must not use it).
"""

import copy

from rest_framework import serializers


class FieldsOnceMixin:
    def get_fields(self):
        cls = type(self)
        prototype = cls.__dict__.get("_fields_prototype")
        if prototype is None:
            prototype = super().get_fields()
            cls._fields_prototype = prototype
        return {
            name: copy.deepcopy(field) if _has_child(field) else copy.copy(field)
            for name, field in prototype.items()
        }


def _has_child(field) -> bool:
    return (
        isinstance(field, serializers.BaseSerializer)
        or hasattr(field, "child")
        or hasattr(field, "child_relation")
    )


# No docstrings on these two: the schema generator would show them as each subclass's description.
class ModelSerializer(FieldsOnceMixin, serializers.ModelSerializer):
    pass


class Serializer(FieldsOnceMixin, serializers.Serializer):
    pass
