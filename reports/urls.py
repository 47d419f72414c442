from django.urls import path

from reports.apis import ReportCreateApi

urlpatterns = [
    path("report", ReportCreateApi.as_view(), name="report-create"),
]
