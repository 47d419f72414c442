from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from chat import views as pages
from chat.apis import PresenceApi
from chat.me_apis import MeApi
from reports import views as report_pages
from whimsy_project.api import api_not_found

urlpatterns = [
    path("", pages.home, name="home"),
    path("chat/", pages.chat, name="chat"),
    path("report/", report_pages.report, name="report"),
    path("threads/", include("threads.page_urls")),
    path("rooms/", include("moodrooms.page_urls")),
    path("api/", include("threads.urls")),  # before the api/chat/ includes: it serves api/chat/keep
    path("api/chat/", include("matchmaking.urls")),
    path("api/chat/", include("chat.urls")),
    path("api/presence", PresenceApi.as_view(), name="presence"),
    path("api/me", MeApi.as_view(), name="me"),
    path("api/", include("moodrooms.urls")),
    path("api/", include("reports.urls")),
    path("api/schema/", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]), name="schema"),
    path("admin/", admin.site.urls),
    # Last: any other /api/ path is a JSON 404 in the error envelope, not an HTML page.
    re_path(r"^api/", api_not_found),
]
