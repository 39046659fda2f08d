"""``GET /friends/`` (seed 004's 获取好友列表) at the mini-program root, next to accounts' POST/DELETE
``/friends/<id>/``: my friends with avatar, name and presence. A plain array, as the mini-program
contract answers."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations import realtime, selectors

from .serializers import ChatUserPresenceSerializer


class FriendListView(APIView):
    """The people I added as friends (directory order), each with avatar, name (``nickname``) and
    presence as their privacy allows."""

    @extend_schema(tags=["directory"], responses={200: ChatUserPresenceSerializer(many=True)})
    def get(self, request):
        friends = list(selectors.friends_list(user=request.user)[:1000])
        book = realtime.PresenceBook(request.user, friends)
        context = {"request": request, "presence": book}
        return Response(ChatUserPresenceSerializer(friends, many=True, context=context).data)
