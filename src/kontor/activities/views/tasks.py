from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path


@login_required
def my_day(request):
    return render(request, "core/module_placeholder.html", {"module_label": "My day"})


urlpatterns: list = [path("activities/", my_day, name="my_day")]
