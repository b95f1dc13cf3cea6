from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from channels_app.access import visible_applications


@login_required
def application_list(request: HttpRequest) -> HttpResponse:
    applications = visible_applications(request.user).prefetch_related("channels")
    return render(request, "channels_app/application_list.html", {"applications": applications})
