from rest_framework.metadata import SimpleMetadata


class PortalMetadata(SimpleMetadata):
    """DRF's OPTIONS answer, describing request bodies only where a view declares a serializer.

    Action views (mark as read, archive, e-mail a guide …) validate their input with a serializer
    of their own and have no ``serializer_class``; DRF's default metadata fails on them with a 500.
    """

    def determine_actions(self, request, view):
        # Imported here: rest_framework.generics reads this setting while it is imported.
        from rest_framework.generics import GenericAPIView

        declares_serializer = getattr(view, "serializer_class", None) is not None or (
            type(view).get_serializer_class is not GenericAPIView.get_serializer_class
        )
        if isinstance(view, GenericAPIView) and not declares_serializer:
            return {}
        return super().determine_actions(request, view)
