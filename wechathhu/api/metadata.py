from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.metadata import SimpleMetadata
from rest_framework.request import clone_request


class PortalMetadata(SimpleMetadata):
    """DRF's OPTIONS answer, made safe for our view styles.

    * Action views (mark as read, archive, e-mail a guide …) validate input with a serializer of
      their own and have no ``serializer_class``: they describe no request body.
    * Views that load their object through a selector (not ``queryset``/``get_object``) describe
      their PUT form without an object lookup; DRF's default would fail on both with a 500.
    """

    def determine_actions(self, request, view):
        # Imported here: rest_framework.generics reads this setting while it is imported.
        from rest_framework.generics import GenericAPIView

        if not isinstance(view, GenericAPIView):
            return super().determine_actions(request, view)
        cls = type(view)
        declares_serializer = (
            getattr(view, "serializer_class", None) is not None
            or cls.get_serializer_class is not GenericAPIView.get_serializer_class
        )
        if not declares_serializer:
            return {}
        looks_up_objects = (
            getattr(view, "queryset", None) is not None
            or cls.get_queryset is not GenericAPIView.get_queryset
            or cls.get_object is not GenericAPIView.get_object
        )
        actions = {}
        for method in {"PUT", "POST"} & set(view.allowed_methods):
            view.request = clone_request(request, method)
            try:
                view.check_permissions(view.request)
                if method == "PUT" and looks_up_objects:
                    view.get_object()
            except (exceptions.APIException, PermissionDenied, Http404):
                continue
            finally:
                view.request = request
            actions[method] = self.get_serializer_info(view.get_serializer())
        return actions
