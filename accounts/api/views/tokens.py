"""My devices: logging this one out, listing them, signing one out."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors
from accounts.models import AuthToken
from accounts.services.tokens import token_revoke
from wechathhu.api.schema import DETAIL

from ..serializers import AuthTokenSerializer


class LogoutView(APIView):
    """Log this device out: its token stops working; other devices stay signed in."""

    @extend_schema(tags=["auth"], request=None, responses={204: None})
    def post(self, request):
        if isinstance(request.auth, AuthToken):
            token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenListView(ListAPIView):
    """The devices signed in to my account."""

    serializer_class = AuthTokenSerializer
    pagination_class = None
    queryset = AuthToken.objects.none()  # for the schema; requests use get_queryset()

    def get_queryset(self):
        return selectors.token_list_for_user(user=self.request.user)

    @extend_schema(tags=["auth"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class TokenDetailView(APIView):
    """Sign one of my devices out."""

    @extend_schema(tags=["auth"], request=None, responses={204: None, 404: DETAIL})
    def delete(self, request, pk: int):
        token = selectors.token_get_for_user(user=request.user, token_id=pk)
        token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)
