"""The matching page /lernen/: describe a new project, see what other municipalities learned."""

from django import forms
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from knowledge import page_cache
from knowledge.models import Municipality, Topic
from knowledge.page_forms import own_municipality
from knowledge.text import german_count
from network import ratelimit
from network.search_hooks import logged_match_extras, match_page_extras
from search.matching import MatchError, clean_description, match_project, max_description_length


class MatchForm(forms.Form):
    description = forms.CharField(
        label=_("Beschreibung Ihres Vorhabens"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Drei bis sechs Sätze genügen: Was haben Sie vor, warum, mit wem, und "
                    "wo sehen Sie die größten Hürden?"),
    )
    municipality = forms.ModelChoiceField(
        label=_("Ihre Kommune"),
        queryset=Municipality.objects.all(),
        required=False,
        empty_label=_("– keine Angabe –"),
        to_field_name="slug",
        help_text=_("Eigene Inhalte Ihrer Kommune werden nicht vorgeschlagen."),
    )
    topics = forms.ModelMultipleChoiceField(
        label=_("Themen (optional)"),
        queryset=Topic.objects.all(),
        required=False,
        to_field_name="slug",
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Inhalte zu diesen Themen werden bevorzugt, andere aber nicht ausgeblendet."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["description"].widget.attrs["maxlength"] = str(max_description_length())
        self.fields["description"].help_text = _(
            "%(hint)s Höchstens %(max)s Zeichen."
        ) % {"hint": self.fields["description"].help_text,
             "max": german_count(max_description_length())}

    def clean_description(self):
        try:
            return clean_description(self.cleaned_data["description"])
        except MatchError as exc:
            raise forms.ValidationError(str(exc)) from None


# The last matching of this session: a vote sent without JavaScript returns to it.
SESSION_KEY = "lernen"
page_cache.share_pages_despite_session_key(SESSION_KEY)  # read by /lernen/ only
LAST_MATCH_PARAMETER = "zuletzt"


@require_http_methods(["GET", "POST"])
def match_page(request):
    """GET shows the form; POST (CSRF-protected: descriptions can be long and internal)
    shows the suggestions below the filled-in form.

    The description stays out of URLs: the session keeps the last one, so that a vote on a
    suggestion sent without JavaScript (a form post and a redirect) comes back to the same
    suggestions (``?zuletzt=1``) instead of an empty form, without logging the query again.
    """
    results = None
    extras = {}
    status = 200
    last = request.session.get(SESSION_KEY) if LAST_MATCH_PARAMETER in request.GET else None
    returning = request.method != "POST" and last is not None
    if (request.method == "POST" or last) and not ratelimit.allow_matching(request, returning):
        # Each matching embeds the whole description (seconds of CPU for a long one).
        response = render(request, "search/match.html", {
            "form": MatchForm(request.POST if request.method == "POST" else last["form"]),
            "refused": _("Sie haben in kurzer Zeit sehr viele Vorschläge angefordert. Bitte "
                         "versuchen Sie es in einer Minute noch einmal; Ihre Beschreibung "
                         "bleibt hier stehen.")}, status=429)
        response["Retry-After"] = "60"
        return response
    if request.method == "POST" or last:
        form = MatchForm(request.POST if request.method == "POST" else last["form"])
        if form.is_valid():
            results = match_project(
                form.cleaned_data["description"],
                user=request.user,
                municipality=form.cleaned_data["municipality"],
                topics=form.cleaned_data["topics"],
                request=request,
            )
            if request.method == "POST":
                extras = match_page_extras(form.cleaned_data["description"], results)
                _remember(request, form, extras["search_log"])
            else:
                extras = logged_match_extras(last.get("log"))
            # A vote comes back to the same suggestions, at its card (MatchItem.anchor).
            extras["feedback_back"] = f"{reverse('match')}?{LAST_MATCH_PARAMETER}=1#"
        else:
            status = 400
    else:
        # A member's own municipality is preselected, so its own pages are not suggested.
        form = MatchForm(initial={"municipality": own_municipality(request.user)})
    return render(request, "search/match.html", {"form": form, "results": results, **extras},
                  status=status)


def _remember(request, form, log) -> None:
    data = form.cleaned_data
    request.session[SESSION_KEY] = {
        "form": {"description": data["description"],
                 "municipality": data["municipality"].slug if data["municipality"] else "",
                 "topics": [topic.slug for topic in data["topics"]]},
        "log": log.pk if log is not None else None,
    }
