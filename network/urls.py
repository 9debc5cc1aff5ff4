"""URLs of the network app under /netz/ (feeds under /feeds/, see knowledge/urls.py)."""

from django.urls import path

from network import feeds, views

app_name = "network"

urlpatterns = [
    path("rueckmeldung/", views.feedback, name="feedback"),
    path("klick/<str:token>/", views.result_click, name="click"),
    path("benachrichtigungen/", views.subscriptions, name="subscriptions"),
    path("benachrichtigungen/neu/", views.subscribe, name="subscribe"),
    path("benachrichtigungen/<int:pk>/loeschen/", views.unsubscribe_one,
         name="subscription_delete"),
    path("abmelden/<str:token>/", views.unsubscribe, name="unsubscribe"),
]

feed_urlpatterns = (
    [
        path("alle/", feeds.AllMaterialFeed(), name="feed_all"),
        path("thema/<slug:slug>/", feeds.TopicFeed(), name="feed_topic"),
        path("kommune/<slug:slug>/", feeds.MunicipalityFeed(), name="feed_municipality"),
    ],
    "feeds",
)
