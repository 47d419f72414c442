"""HTTP adapter for the visitor's own mood-room identity: GET/PATCH /api/me."""

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from chat.apis import StrictCharField
from chat.names import MAX_NAME_CHARS, MIN_NAME_CHARS, avatar_parts
from chat.selectors import VisitorProfile, visitor_profile_for
from chat.services import visitor_rename
from whimsy_project.api import validated_input


# At least two visible characters: the trimmed name is at least MIN_NAME_CHARS (2) long.
TWO_VISIBLE = RegexValidator(r"\S[\s\S]*\S", message=f"At least {MIN_NAME_CHARS} visible characters.")


@extend_schema_field({"type": "string", "format": "display-name"})
class DisplayNameField(StrictCharField):
    """No control, format, private-use or unassigned characters: a rule JSON Schema cannot
    state, so the document names it as the format `display-name`."""


class AvatarOutput(serializers.Serializer):
    emoji = serializers.CharField()
    color = serializers.RegexField(r"^#[0-9a-f]{6}$", help_text="background colour, #rrggbb")

    class Meta:
        ref_name = "Avatar"


class MeOutput(serializers.Serializer):
    user_id = serializers.UUIDField()
    username = serializers.CharField(min_length=MIN_NAME_CHARS, max_length=MAX_NAME_CHARS)
    avatar = AvatarOutput()

    class Meta:
        ref_name = "Me"


def me_payload(profile: VisitorProfile) -> dict:
    return {"user_id": str(profile.user_id), "username": profile.username, "avatar": avatar_parts(profile.avatar)}


class MeApi(APIView):
    class InputSerializer(serializers.Serializer):
        # Trimmed and checked by the service (chat.names.clean_display_name), which owns the rule;
        # the limits are checked here on what was sent too, so that the API schema states them.
        username = DisplayNameField(
            trim_whitespace=False,
            max_length=MAX_NAME_CHARS,
            validators=[TWO_VISIBLE],
            help_text=f"{MIN_NAME_CHARS}-{MAX_NAME_CHARS} characters after trimming; no control characters",
        )

        class Meta:
            ref_name = "MeInput"

    @extend_schema(responses={200: MeOutput}, summary="Your name and avatar in mood rooms")
    def get(self, request):
        return Response(me_payload(visitor_profile_for(user_id=request.user.id)))

    @extend_schema(request=InputSerializer, responses={200: MeOutput}, summary="Change your name in mood rooms")
    def patch(self, request):
        data = validated_input(self.InputSerializer, request)
        visitor_rename(user_id=request.user.id, username=data["username"], ip_hash=request.user.ip_hash)
        return Response(me_payload(visitor_profile_for(user_id=request.user.id)))
