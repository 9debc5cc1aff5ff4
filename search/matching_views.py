"""The matching page /lernen/: describe a new project, see what other municipalities learned."""

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from knowledge.models import Municipality, Topic
from network.search_hooks import match_page_extras
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
            "%(hint)s Höchstens %(max)d Zeichen."
        ) % {"hint": self.fields["description"].help_text, "max": max_description_length()}

    def clean_description(self):
        try:
            return clean_description(self.cleaned_data["description"])
        except MatchError as exc:
            raise forms.ValidationError(str(exc)) from None


@require_http_methods(["GET", "POST"])
def match_page(request):
    """GET shows the form; POST (CSRF-protected: descriptions can be long and internal)
    shows the suggestions below the filled-in form."""
    results = None
    extras = {}
    status = 200
    if request.method == "POST":
        form = MatchForm(request.POST)
        if form.is_valid():
            results = match_project(
                form.cleaned_data["description"],
                user=request.user,
                municipality=form.cleaned_data["municipality"],
                topics=form.cleaned_data["topics"],
                request=request,
            )
            extras = match_page_extras(form.cleaned_data["description"], results)
        else:
            status = 400
    else:
        form = MatchForm()
    return render(request, "search/match.html", {"form": form, "results": results, **extras},
                  status=status)
