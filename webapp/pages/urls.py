from django.urls import path

from webapp.pages import views

urlpatterns = [
    path("", views.home, name="home"),
    path("claps/<uuid:pk>/", views.job_page, name="job-page"),
    path("claps/<uuid:pk>/cancel/", views.cancel, name="job-cancel"),
    path("claps/<uuid:pk>/retry/", views.retry, name="job-retry"),
]
