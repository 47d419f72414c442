"""The mood room pages, mounted at /rooms/."""

from django.urls import path

from moodrooms import views

urlpatterns = [
    path("", views.rooms, name="rooms"),
    path("<uuid:session_id>/", views.room, name="room"),
]
