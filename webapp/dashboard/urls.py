from django.contrib import admin
from django.urls import path

from webapp.dashboard import views

app_name = "dashboard"
staff = admin.site.admin_view  # anyone else is sent to the admin login

urlpatterns = [
    path("", staff(views.streams), name="streams"),
    path("live/", staff(views.live), name="live"),
    path("data.json", staff(views.data), name="data"),
    path("dead-letters/", staff(views.dead_letters), name="dead_letters"),
]
