from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path


@login_required
def calendar(request):
    return render(request, "core/module_placeholder.html", {"module_label": "Calendar"})


urlpatterns: list = [path("calendar/", calendar, name="calendar")]
