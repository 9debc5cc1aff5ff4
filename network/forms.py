"""Forms of the member's "Benachrichtigungen" page."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from knowledge.access import viewable_pages
from knowledge.models import Municipality, ProjectPage, Topic
from network.models import DigestSettings, Subscription
from search.query import SearchError, clean_query


class FrequencyForm(forms.ModelForm):
    class Meta:
        model = DigestSettings
        fields = ["frequency"]
        widgets = {"frequency": forms.RadioSelect}

    def save(self, commit=True):
        """A new rhythm starts its schedule anew: one new period after the last digest (a
        member switching from weekly to daily hears from us within a day, not after the week).
        Switching digests back on starts from now: the first digest after months of "nie"
        would otherwise announce everything published meanwhile."""
        if "frequency" in self.changed_data:
            self.instance.next_due = None
            if self.initial.get("frequency") == DigestSettings.Frequency.NEVER:
                self.instance.covered_until = timezone.now()
        return super().save(commit)


class SubscriptionForm(forms.Form):
    """Follow one topic, municipality or project (choose one) or save a search."""

    thema = forms.ModelChoiceField(label=_("Thema"), queryset=Topic.objects.all(),
                                   required=False, to_field_name="slug",
                                   empty_label=_("– Thema wählen –"))
    kommune = forms.ModelChoiceField(label=_("Kommune"), queryset=Municipality.objects.all(),
                                     required=False, to_field_name="slug",
                                     empty_label=_("– Kommune wählen –"))
    projekt = forms.ModelChoiceField(label=_("Projekt"), queryset=ProjectPage.objects.none(),
                                     required=False, empty_label=_("– Projekt wählen –"))
    q = forms.CharField(label=_("Gespeicherte Suche"), required=False, max_length=300)

    FILTER_KEYS = ("typ", "kommune", "ohne_kommune", "thema", "von", "bis")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["projekt"].queryset = viewable_pages(user, ProjectPage).order_by("title")

    def clean_q(self):
        text = self.cleaned_data["q"]
        if not text.strip():
            return ""
        try:
            return clean_query(text)
        except SearchError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self):
        data = super().clean()
        chosen = [k for k in ("thema", "kommune", "projekt", "q") if data.get(k)]
        if not chosen and not self.errors:
            raise forms.ValidationError(_("Bitte wählen Sie ein Thema, eine Kommune, ein "
                                          "Projekt oder geben Sie eine Suche an."))
        if len(chosen) > 1:  # one subscription per submission: never drop a choice silently
            raise forms.ValidationError(_("Bitte wählen Sie nur eines davon: ein Thema, eine "
                                          "Kommune, ein Projekt oder eine Suche. Mehreren "
                                          "folgen Sie nacheinander."))
        return data

    def subscription(self, filters: dict | None = None) -> Subscription:
        """The unsaved subscription; a query wins (its filters may name topic and town)."""
        data = self.cleaned_data
        if data.get("q"):
            return Subscription(user=self.user, kind=Subscription.Kind.SEARCH, query=data["q"],
                                filters=filters or {})
        if data.get("projekt"):
            return Subscription(user=self.user, kind=Subscription.Kind.PROJECT,
                                project=data["projekt"])
        if data.get("thema"):
            return Subscription(user=self.user, kind=Subscription.Kind.TOPIC, topic=data["thema"])
        return Subscription(user=self.user, kind=Subscription.Kind.MUNICIPALITY,
                            municipality=data["kommune"])
