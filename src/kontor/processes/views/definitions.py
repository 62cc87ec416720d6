from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path


@login_required
def process_list(request):
    return render(request, "core/module_placeholder.html", {"module_label": "Processes"})


urlpatterns: list = [path("", process_list, name="process_list")]
