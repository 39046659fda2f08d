"""Friends: adding a person to my contacts, removing them."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors
from accounts.services.friends import friendship_create, friendship_delete
from wechathhu.api.schema import DETAIL


class FriendView(APIView):
    """Add a person to my friends (POST) or remove them (DELETE). Answers 200 with no body.

    Adding oneself or adding twice is a 400; an unknown or inactive user is a 404. A friend
    you add sees the card fields you keep for "colleagues and friends".
    """

    @extend_schema(tags=["directory"], request=None, responses={200: None, 400: DETAIL, 404: DETAIL})
    def post(self, request, user_id: int):
        friend = selectors.user_get_active(user_id=user_id)
        friendship_create(user=request.user, friend=friend)
        return Response(status=status.HTTP_200_OK)

    @extend_schema(tags=["directory"], request=None, responses={200: None, 404: DETAIL})
    def delete(self, request, user_id: int):
        friend = selectors.user_get(user_id=user_id)  # a friend who has left can still be removed
        friendship_delete(user=request.user, friend=friend)
        return Response(status=status.HTTP_200_OK)
