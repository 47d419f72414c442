"""HTTP adapter for reporting a stranger: parse, rate-limit, call the service, reply."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from reports.models import Report
from reports.services import report_create, report_session_create, report_thread_create
from threads.models import THREAD_ID_LENGTH
from whimsy_project.api import NOT_BLANK, ExactlyOneOf, StrictUUIDField, validated_input
from whimsy_project.ratelimit import enforce, report_limit


class ReportCreateApi(APIView):
    class InputSerializer(ExactlyOneOf):
        one_of = ("room_id", "thread_id", "session_id")  # what a report is about
        companions = {"session_id": ("reported_user_id",)}  # a mood room report says who
        room_id = StrictUUIDField(required=False, help_text="a 1:1 chat room (or give thread_id or session_id)")
        thread_id = serializers.CharField(
            required=False,
            max_length=THREAD_ID_LENGTH,
            validators=[NOT_BLANK],
            help_text="a keep-in-touch thread (or give room_id)",
        )
        session_id = StrictUUIDField(required=False, help_text="a mood room (with reported_user_id)")
        reported_user_id = StrictUUIDField(
            required=False, help_text="with session_id: who, among those in the room with you in the last 10 minutes"
        )
        reason = serializers.ChoiceField(choices=Report.Reason.choices)
        details = serializers.CharField(
            required=False, default="", allow_blank=True, max_length=Report._meta.get_field("details").max_length
        )

        class Meta:
            ref_name = "ReportCreateInput"

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = Report
            fields = ["id", "status"]
            ref_name = "ReportCreateOutput"

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer},
        summary="Report the stranger you were paired with in a room",
        description=(
            "Once per pairing. Errors: 404 room_not_found, 403 not_participant (not your room), "
            "409 no_partner_to_report (nobody ever joined you there), 409 already_reported, 429 rate_limited."
        ),
    )
    def post(self, request):
        enforce(scope="report", key=str(request.user.id), limit=report_limit())
        data = validated_input(self.InputSerializer, request)
        if "thread_id" in data:
            report = report_thread_create(reporter_id=request.user.id, **data)
        elif "session_id" in data:
            report = report_session_create(reporter_id=request.user.id, **data)
        else:
            report = report_create(reporter_id=request.user.id, **data)
        return Response(self.OutputSerializer(report).data, status=status.HTTP_201_CREATED)
