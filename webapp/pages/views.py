"""The site's pages: submit claps, watch a job, cancel or retry it. Writes go through
webapp.claps.services, exactly as the API's do."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from webapp.claps import selectors, services
from webapp.claps.admission import admit
from webapp.claps.models import ClapJob, Status
from webapp.claps.owners import known_owner_of, owner_of
from webapp.claps.publisher import PublishError
from webapp.pages.forms import ClapForm
from webapp.realtime.events import snapshot_of

RECENT_JOBS = 10
# The pages' scripts show a status as the templates do: by its label.
STATUS_LABELS = dict(Status.choices)


def home(request):
    status = 200
    if request.method == "POST":
        form = ClapForm(request.POST)
        refusal = admit(request, owner_of(request)) if form.is_valid() else None  # the API's
        if refusal is not None:
            form.add_error(None, _too_many(refusal))
            status = 429
        if form.is_valid():
            job = services.clap_submit(owner=owner_of(request), **form.cleaned_data)
            return redirect("job-page", pk=job.id)
    else:
        form = ClapForm(initial=_again(request.GET))
    # Reading needs no identity: a first visit creates no session.
    owner = known_owner_of(request.session, request.user)
    jobs = selectors.jobs_of(owner)[:RECENT_JOBS] if owner else []
    context = {"form": form, "jobs": jobs, "status_labels": STATUS_LABELS}
    return render(request, "pages/home.html", context, status=status)


def job_page(request, pk):
    job = _own_job(request, pk)
    context = {
        "job": job,
        "snapshot": snapshot_of(job),  # what the socket sends first, for the script
        "status_labels": STATUS_LABELS,
        "percent": job.done * 100 // job.claps,
        "api_url": reverse("clap-detail", kwargs={"pk": job.id}),
        "again_url": f"{reverse('home')}?{urlencode({'claps': job.claps, 'note': job.note})}",
    }
    return render(request, "pages/job.html", context)


@require_POST
def cancel(request, pk):
    job = _own_job(request, pk)
    try:
        services.clap_cancel(job=job)
    except services.JobStateConflict as exc:
        messages.info(request, f"Nothing to cancel: {exc}.")
    except PublishError:
        messages.error(request, "Kafka did not confirm the cancellation; please try again.")
    return redirect("job-page", pk=job.id)


@require_POST
def retry(request, pk):
    job = _own_job(request, pk)
    refusal = admit(request, job.owner)  # a retry is a submission, admitted as one
    if refusal is not None:
        messages.error(request, _too_many(refusal))
        return redirect("job-page", pk=job.id)
    try:
        again = services.clap_retry(job=job)
    except services.JobStateConflict as exc:
        messages.info(request, f"Nothing to retry: {exc}.")
        return redirect("job-page", pk=job.id)
    return redirect("job-page", pk=again.id)


def _too_many(refusal) -> str:
    return f"Too many claps at once: try again in {refusal.wait} s."


def _own_job(request, pk) -> ClapJob:
    owner = known_owner_of(request.session, request.user)
    job = selectors.job_of(owner, pk) if owner else None
    if job is None:
        raise Http404("No such clap job.")
    return job


def _again(query) -> dict:
    """The form's initial values for a "clap again" link: ?claps=5&note=..."""
    form = ClapForm(query)
    form.is_valid()
    return {k: v for k, v in form.cleaned_data.items() if k in query}
