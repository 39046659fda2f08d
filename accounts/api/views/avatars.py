"""Avatars: uploading or removing mine, and serving the images."""

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors
from accounts.services.avatars import user_remove_avatar, user_set_avatar
from wechathhu.api.schema import DETAIL

from ..serializers import AvatarUploadSerializer, UserSerializer


class CurrentUserAvatarView(APIView):
    """Upload my avatar (``multipart/form-data``, field ``avatar``: a JPEG, PNG, GIF or WebP image
    up to ``AVATAR_MAX_BYTES``; it is re-encoded as a square JPEG), or remove it."""

    parser_classes = (MultiPartParser, FormParser)

    @extend_schema(
        tags=["current-user"],
        request={"multipart/form-data": AvatarUploadSerializer},
        responses={200: UserSerializer, 400: OpenApiResponse(description='`{"avatar": ["…"]}`')},
    )
    def put(self, request):
        serializer = AvatarUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_set_avatar(user=request.user, upload=serializer.validated_data["avatar"])
        user = selectors.user_get_current(user=request.user)
        return Response(UserSerializer(user, context={"request": request}).data)

    @extend_schema(tags=["current-user"], request=None, responses={200: UserSerializer})
    def delete(self, request):
        user_remove_avatar(user=request.user)
        user = selectors.user_get_current(user=request.user)
        return Response(UserSerializer(user, context={"request": request}).data)


class AvatarView(APIView):
    """An avatar image. The URL (as given in ``avatar`` fields) is the permission: its key is
    unguessable and changes with every upload, so it can be cached for long."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    @extend_schema(tags=["current-user"], responses={(200, "image/jpeg"): OpenApiTypes.BINARY, 404: DETAIL})
    def get(self, request, user_id: int, key: str):
        user = selectors.user_get_active(user_id=user_id)
        if not user.avatar or user.avatar.name.rsplit("/", 1)[-1] != f"{key}.jpg":
            raise exceptions.NotFound()
        try:
            handle = user.avatar.storage.open(user.avatar.name, "rb")
        except FileNotFoundError:
            raise exceptions.NotFound()
        response = FileResponse(handle, content_type="image/jpeg")
        response["Cache-Control"] = "public, max-age=2592000, immutable"
        return response
