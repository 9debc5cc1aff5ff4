"""Pages and endpoints of the network app: feedback, result clicks, subscriptions, unsubscribe.

Every endpoint answers bad input with a German message and a 4xx status; nothing here can show
a page the visitor may not view (feedback and subscriptions check ``viewable_pages``).
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from knowledge.access import viewable_page_for_request
from knowledge.audit import client_address
from knowledge.text import int_in_range
from network import ratelimit
from network.feedback import (
    FeedbackForm,
    read_feedback_token,
    session_hash,
    store_feedback,
    within_rate_limit,
)
from network.forms import FrequencyForm, SubscriptionForm
from network.matching import with_shown_labels
from network.models import DigestSettings, Feedback, QueryLog, Subscription
from network.search_hooks import remember_voted_search
from network.tokens import TokenError, read_token
from search.query import SearchError, clean_filter_value, resolve_filters


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _back(request, fallback: str = "/") -> str:
    target = request.POST.get("weiter", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return fallback


def _problem(request, message: str, status: int, *, template: str = "network/problem.html",
             context: dict | None = None, **headers):
    """A refused request: JSON for scripts, else ``template`` with the message and a link back
    (``context`` replaces the default context of message and back link)."""
    if _wants_json(request):
        response = JsonResponse({"detail": message}, status=status)
    else:
        if context is None:
            back = _back(request, "") if request.method == "POST" else ""
            context = {"message": message, "back": back}
        response = render(request, template, context, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _feedback_problem(request, message: str, status: int, *, resubmit: bool, **headers):
    """A refused vote: JSON for the page's script; without JavaScript a page with the message,
    the comment as typed (in the form again if sending again can help) and a link back.

    The expired or forged search reference is left out of the form again: sent again, the
    vote counts without its search."""
    post = request.POST
    page_id = int_in_range(post.get("seite", ""), 1, 2**31 - 1)
    source = post.get("herkunft", "")
    context = {
        "message": message,
        "comment": post.get("kommentar", "").replace("\r\n", "\n"),
        "back": _back(request, "/"),
        "page_id": page_id,
        "source": source if source in Feedback.Source.values else Feedback.Source.PAGE,
        "rank": int_in_range(post.get("rang", ""), 1, 10_000),
        "resubmit": resubmit and page_id is not None,
    }
    return _problem(request, message, status, template="network/feedback_problem.html",
                    context=context, **headers)


@require_POST
def feedback(request):
    """Store "War das hilfreich?" (CSRF-protected form post; JSON answer for fetch)."""
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        return _feedback_problem(request, " ".join(errors), 400, resubmit=True)
    page = viewable_page_for_request(request, form.cleaned_data["seite"])
    if page is None:
        return _feedback_problem(request, _("Diese Seite gibt es nicht oder Sie dürfen sie "
                                            "nicht sehen."), 404, resubmit=False)
    session = session_hash(request)
    if not within_rate_limit(request, session):
        return _feedback_problem(request, _("Sie haben in kurzer Zeit sehr viele Rückmeldungen "
                                            "gegeben. Bitte versuchen Sie es später noch "
                                            "einmal."), 429, resubmit=False,
                                 **{"Retry-After": "3600"})
    created = store_feedback(form.cleaned_data, page, session)[1]
    message = _("Danke für Ihre Rückmeldung!") if created else \
        _("Danke! Ihre frühere Rückmeldung wurde aktualisiert.")
    if _wants_json(request):
        return JsonResponse({"detail": message, "created": created},
                            status=201 if created else 200)
    messages.success(request, message)
    search_id = form.cleaned_data["suche"]
    if form.cleaned_data["herkunft"] == Feedback.Source.SEARCH and search_id is not None:
        remember_voted_search(request, search_id)  # its result page is logged already
    return redirect(_back(request, page.url or "/"), permanent=False)


def csrf_failure(request, reason=""):
    """A vote sent with a stale form (logged in or out in another window) keeps its comment;
    every other refused form gets Django's page (templates/403_csrf.html)."""
    if request.path == reverse("network:feedback") and not reason.startswith(_FOREIGN_POST):
        return _feedback_problem(request, _("Ihre Anmeldung hat sich seit dem Laden der Seite "
                                            "geändert. Bitte laden Sie die Seite neu oder "
                                            "senden Sie Ihre Rückmeldung hier noch einmal."),
                                 403, resubmit=True)
    return django_csrf_failure(request, reason=reason)


# Django's reasons (REASON_BAD_ORIGIN, REASON_NO_REFERER, REASON_BAD_REFERER, …) for a post
# from another site: Django's page, no ready-to-send form with someone else's comment. Every
# other reason is a missing or stale token of our own form.
_FOREIGN_POST = ("Origin checking failed", "Referer checking failed")


@csrf_exempt  # sent by the browser's <a ping>, which carries no CSRF token; it only counts
@require_POST
def result_click(request, token: str):
    """Count a click on a result of a logged query (for "low-click" queries). The URL holds
    the search's signed feedback token, not its id: ids are sequential, and anyone could
    have counted clicks on every search in the Redaktion's report."""
    if not ratelimit.allow("click", client_address(request), "120/m"):
        return HttpResponse(status=429, headers={"Retry-After": "60"})
    try:
        log_id = read_feedback_token(token)
    except (signing.BadSignature, ValueError, TypeError):
        return HttpResponse(status=404)
    updated = QueryLog.objects.filter(pk=log_id).update(clicks=F("clicks") + 1)
    return HttpResponse(status=204 if updated else 404)


def _settings_for(user) -> DigestSettings:
    return DigestSettings.objects.get_or_create(user=user)[0]


@login_required
@require_http_methods(["GET", "POST"])
def subscriptions(request):
    """The member's "Benachrichtigungen": what they follow and how often they hear of it."""
    prefs = _settings_for(request.user)
    frequency_form = FrequencyForm(instance=prefs)
    status = 200
    if request.method == "POST" and request.POST.get("aktion") == "rhythmus":
        frequency_form = FrequencyForm(request.POST, instance=prefs)
        if frequency_form.is_valid():
            frequency_form.save()
            messages.success(request, _("Ihre Einstellung wurde gespeichert."))
            return redirect("network:subscriptions")
        status = 400
    elif request.method == "POST":
        return _problem(request, _("Unbekannte Aktion."), 400)
    return _settings_page(request, prefs, frequency_form=frequency_form, status=status)


def _settings_page(request, prefs, *, frequency_form=None, add_form=None, status=200):
    context = {
        "prefs": prefs,
        "frequency_form": frequency_form or FrequencyForm(instance=prefs),
        "add_form": add_form or SubscriptionForm(user=request.user),
        "subscriptions": with_shown_labels(Subscription.objects.filter(user=request.user)
                                           .select_related("topic", "municipality", "project"),
                                           request.user),
    }
    return render(request, "network/subscriptions.html", context, status=status)


def _post_only_after_login(view):
    """A POST-only action that leads a GET (the login's return after an expired session: the
    form's data is gone) to the settings page with a German note, not to a blank 405."""
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "POST":
            messages.info(request, _("Ihre Anmeldung war abgelaufen; bitte wählen Sie noch "
                                     "einmal aus, was Sie ändern möchten."))
            return redirect("network:subscriptions")
        return view(request, *args, **kwargs)
    return login_required(require_http_methods(["GET", "POST"])(wrapper))


@_post_only_after_login
def subscribe(request):
    """Add a subscription (from the settings page, a search or a knowledge page)."""
    form = SubscriptionForm(request.POST, user=request.user)
    if not form.is_valid():
        if _back(request, "") == reverse("network:subscriptions") and not _wants_json(request):
            # From the settings page: the form again, with what was chosen or typed.
            return _settings_page(request, _settings_for(request.user), add_form=form,
                                  status=400)
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        return _problem(request, " ".join(errors), 400)
    filters = {}
    if form.cleaned_data.get("q"):
        # Cleaned before they are checked and stored: a NUL would fail the JSON column.
        filters = {key: [v for v in (clean_filter_value(raw).strip()
                                     for raw in request.POST.getlist(f"filter_{key}")) if v]
                   for key in SubscriptionForm.FILTER_KEYS}
        filters = {key: values[:5] for key, values in filters.items() if values}
        try:
            resolve_filters(types=filters.get("typ", []),
                            municipality=filters.get("kommune", []),
                            exclude_municipality=filters.get("ohne_kommune", []),
                            topic=filters.get("thema", []),
                            date_from=(filters.get("von") or [""])[0],
                            date_to=(filters.get("bis") or [""])[0])
        except SearchError as exc:
            return _problem(request, str(exc), 400)
        filters = {k: (v[0] if k in ("von", "bis") else v) for k, v in filters.items()}
    subscription = form.subscription(filters)
    _settings_for(request.user)
    try:
        with transaction.atomic():
            subscription.save()
    except IntegrityError:
        messages.info(request, _("Dem folgen Sie bereits."))
    else:
        messages.success(request, _("Sie folgen jetzt: %(what)s") % {"what": subscription})
    return redirect(_back(request, "/netz/benachrichtigungen/"))


@_post_only_after_login
def unsubscribe_one(request, pk: int):
    subscription = get_object_or_404(Subscription, pk=pk, user=request.user)
    label = with_shown_labels([subscription], request.user)[0].shown_label
    subscription.delete()
    messages.success(request, _("Sie folgen nicht mehr: %(what)s") % {"what": label})
    # "Nicht mehr folgen" on a page returns to that page.
    return redirect(_back(request, reverse("network:subscriptions")))


@csrf_exempt  # RFC 8058 one-click: the mail client POSTs without a session; the token is
@require_http_methods(["GET", "POST"])  # the credential. GET only asks (link scanners).
def unsubscribe(request, token: str):
    """Stop the digest with the signed token from an e-mail."""
    try:
        user_id, version = read_token(token)
    except TokenError as exc:
        return render(request, "network/unsubscribe.html", {"error": str(exc)},
                      status=exc.status)
    prefs = DigestSettings.objects.filter(user_id=user_id).first()
    if prefs is None or prefs.token_version != version:
        return render(request, "network/unsubscribe.html", {
            "error": _("Dieser Abmeldelink wurde bereits verwendet. Ihre aktuellen "
                       "Einstellungen sehen Sie nach der Anmeldung unter "
                       "„Benachrichtigungen“.")},
            status=410)
    if request.method == "GET":
        return render(request, "network/unsubscribe.html", {"token": token})
    DigestSettings.objects.filter(pk=prefs.pk, token_version=version).update(
        frequency=DigestSettings.Frequency.NEVER, token_version=F("token_version") + 1)
    return render(request, "network/unsubscribe.html", {"done": True})
