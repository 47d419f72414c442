"""HTTP adapter for reporting a stranger: parse, rate-limit, call the service, reply."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from reports.models import Report
from reports.services import report_create
from whimsy_project.api import StrictUUIDField, validated_input
from whimsy_project.ratelimit import enforce, report_limit


class ReportCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        room_id = StrictUUIDField()
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
            "409 no_partner (nobody ever joined you there), 409 already_reported, 429 rate_limited."
        ),
    )
    def post(self, request):
        enforce(scope="report", key=str(request.user.id), limit=report_limit())
        data = validated_input(self.InputSerializer, request)
        report = report_create(reporter_id=request.user.id, **data)
        return Response(self.OutputSerializer(report).data, status=status.HTTP_201_CREATED)
