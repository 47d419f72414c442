from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from chat.views import home

urlpatterns = [
    path("", home, name="home"),
    path("api/chat/", include("matchmaking.urls")),
    path("api/schema/", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]), name="schema"),
    path("admin/", admin.site.urls),
]
