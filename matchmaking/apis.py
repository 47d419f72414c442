"""HTTP adapters for matchmaking: parse, call one service, reply."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from chat.models import ChatRoom
from matchmaking.services import Match, find_available_room, leave_room, next_room
from whimsy_project.api import StrictUUIDField, validated_input
from whimsy_project.ratelimit import enforce, match_limit


class MatchOutput(serializers.Serializer):
    room_id = StrictUUIDField()
    partner_id = serializers.UUIDField(allow_null=True)
    status = serializers.ChoiceField(choices=["searching", "chatting"])
    common_interests = serializers.ListField(child=serializers.CharField())


def _match_response(match: Match) -> Response:
    return Response(
        MatchOutput(
            {
                "room_id": match.room_id,
                "partner_id": match.partner_id,
                "status": match.status,
                "common_interests": match.common_interests,
            }
        ).data
    )


class _Preferences(serializers.Serializer):
    # Tags are normalised by the service, which owns the rules; the limits are checked
    # here on what was sent too, so that the API schema states them.
    interests = serializers.ListField(
        child=serializers.CharField(
            allow_blank=True,
            trim_whitespace=False,
            max_length=settings.MAX_INTEREST_LENGTH,
            error_messages={"max_length": "longer than {max_length} characters."},
        ),
        required=False,
        default=list,
        max_length=settings.MAX_INTERESTS,
        error_messages={"max_length": "at most {max_length} interests."},
    )
    mode = serializers.ChoiceField(choices=ChatRoom.Mode.choices, required=False)


class ChatStartApi(APIView):
    class InputSerializer(_Preferences):
        class Meta:
            ref_name = "ChatStartInput"

    @extend_schema(request=InputSerializer, responses={200: MatchOutput}, summary="Find a stranger")
    def post(self, request):
        enforce(scope="match", key=str(request.user.id), limit=match_limit())
        data = validated_input(self.InputSerializer, request)
        match = find_available_room(
            user_id=request.user.id,
            mode=data.get("mode", ChatRoom.Mode.TEXT),
            interests=data["interests"],
            ip_hash=request.user.ip_hash,
        )
        return _match_response(match)


class ChatNextApi(APIView):
    class InputSerializer(_Preferences):
        room_id = StrictUUIDField()

        class Meta:
            ref_name = "ChatNextInput"

    @extend_schema(request=InputSerializer, responses={200: MatchOutput}, summary="Skip to a new stranger")
    def post(self, request):
        enforce(scope="match", key=str(request.user.id), limit=match_limit())
        data = validated_input(self.InputSerializer, request)
        match = next_room(
            user_id=request.user.id,
            room_id=data["room_id"],
            mode=data.get("mode"),
            interests=data["interests"],
            ip_hash=request.user.ip_hash,
        )
        return _match_response(match)


class ChatLeaveApi(APIView):
    class InputSerializer(serializers.Serializer):
        room_id = StrictUUIDField()

        class Meta:
            ref_name = "ChatLeaveInput"

    class OutputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=["left"])

        class Meta:
            ref_name = "ChatLeaveOutput"

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer}, summary="End the chat")
    def post(self, request):
        data = validated_input(self.InputSerializer, request)
        leave_room(user_id=request.user.id, room_id=data["room_id"])
        return Response({"status": "left"}, status=status.HTTP_200_OK)
