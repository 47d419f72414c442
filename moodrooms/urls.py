from django.urls import path

from moodrooms.apis import (
    SessionJoinApi,
    SessionJoinByCategoryApi,
    SessionLeaveApi,
    SessionMessagesApi,
    SessionMoodApi,
    SessionParticipantsApi,
    SessionsApi,
)

urlpatterns = [
    path("sessions", SessionsApi.as_view(), name="sessions"),
    path("sessions/join", SessionJoinByCategoryApi.as_view(), name="sessions-join"),
    path("sessions/<uuid:session_id>/join", SessionJoinApi.as_view(), name="session-join"),
    path("sessions/<uuid:session_id>/leave", SessionLeaveApi.as_view(), name="session-leave"),
    path("sessions/<uuid:session_id>/mood", SessionMoodApi.as_view(), name="session-mood"),
    path("sessions/<uuid:session_id>/messages", SessionMessagesApi.as_view(), name="session-messages"),
    path("sessions/<uuid:session_id>/participants", SessionParticipantsApi.as_view(), name="session-participants"),
]
