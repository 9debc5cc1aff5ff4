"""Storing "War das hilfreich?": validation, session de-duplication and rate limits.

Anonymous visitors may answer too. One vote per session, page, surface and query: answering
again changes the earlier vote instead of counting twice. The session is identified only by a
salted hash, never stored in clear and never joined to a user.
"""

from __future__ import annotations

import hashlib

from django import forms
from django.conf import settings
from django.core import signing
from django.utils.translation import gettext_lazy as _

from knowledge.audit import client_address
from knowledge.text import german_count, strip_control_characters
from network import ratelimit
from network.models import Feedback, QueryLog

MAX_COMMENT_LENGTH = 1000


class CommentField(forms.CharField):
    """Line breaks count as one character, as the browser's ``maxlength`` counts them: the
    form posts them as CR LF, and a comment the browser accepted was refused as too long."""

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n")


class FeedbackForm(forms.Form):
    seite = forms.IntegerField(min_value=1, error_messages={
        "required": _("Es fehlt, zu welcher Seite die Rückmeldung gehört."),
        "invalid": _("Die Seite der Rückmeldung ist ungültig.")})
    hilfreich = forms.ChoiceField(choices=[("ja", _("Ja")), ("nein", _("Nein"))],
                                  error_messages={
                                      "required": _("Bitte wählen Sie „Ja“ oder „Nein“."),
                                      "invalid_choice": _("Bitte wählen Sie „Ja“ oder „Nein“.")})
    kommentar = CommentField(required=False, max_length=MAX_COMMENT_LENGTH, error_messages={
        "max_length": _("Der Kommentar darf höchstens %(max)s Zeichen lang sein.") % {
            "max": german_count(MAX_COMMENT_LENGTH)}})
    herkunft = forms.ChoiceField(choices=Feedback.Source.choices, initial="seite",
                                 error_messages={
                                     "required": _("Die Herkunft der Rückmeldung fehlt."),
                                     "invalid_choice": _("Unbekannte Herkunft der Rückmeldung.")})
    suche = forms.CharField(required=False, max_length=200)
    rang = forms.IntegerField(required=False, min_value=1, max_value=10_000, error_messages={
        "invalid": _("Der Rang muss eine ganze Zahl sein."),
        "min_value": _("Der Rang muss mindestens 1 sein."),
        "max_value": _("Der Rang ist zu groß.")})

    def clean_kommentar(self):
        return strip_control_characters(self.cleaned_data["kommentar"]).strip()

    def clean_suche(self) -> int | None:
        token = self.cleaned_data["suche"]
        if not token:
            return None
        try:
            return read_feedback_token(token)
        except signing.SignatureExpired:
            raise forms.ValidationError(_("Die Suche ist zu lange her; bitte suchen Sie "
                                          "erneut.")) from None
        except (signing.BadSignature, TypeError, ValueError):
            raise forms.ValidationError(_("Die Suchanfrage der Rückmeldung ist "
                                          "ungültig.")) from None


def session_hash(request) -> str:
    """A stable, unguessable identifier of the visitor's session (created if needed)."""
    if not request.session.session_key:
        request.session.save()
    raw = f"{settings.SECRET_KEY}:feedback:{request.session.session_key}"
    return hashlib.sha256(raw.encode()).hexdigest()


def within_rate_limit(request, session: str) -> bool:
    """Per session and per address (scripts without cookies get a new session each time)."""
    per_session, _, per_address = getattr(
        settings, "KNOWLEDGE_FEEDBACK_RATE_LIMIT", "20/h,100/h").partition(",")
    session_ok = ratelimit.allow("feedback-session", session, per_session)
    address_ok = ratelimit.allow("feedback-address", client_address(request),
                                 per_address or per_session)
    return session_ok and address_ok


def feedback_token(log_id: int) -> str:
    """The signed reference to a query log entry that a result's feedback form carries: a
    vote can only name a search this server logged, not any id (which would tie votes to
    other people's queries in the reports)."""
    return signing.dumps(log_id, salt=_TOKEN_SALT)


def read_feedback_token(token: str) -> int:
    """The log id of a :func:`feedback_token`; ``signing.BadSignature`` (or its subclass
    ``SignatureExpired``) for a forged or week-old one, ``ValueError`` for a malformed one.
    Result clicks are counted by the same token, so a script cannot count clicks on other
    people's searches by trying ids."""
    return int(signing.loads(token, salt=_TOKEN_SALT, max_age=_TOKEN_MAX_AGE))


_TOKEN_SALT = "network.feedback.query-log"  # noqa: S105 - a signing namespace, no secret
# A result page left open over a weekend still takes votes.
_TOKEN_MAX_AGE = 7 * 24 * 3600


def store_feedback(data: dict, page, session: str) -> tuple[Feedback, bool]:
    """Create or update the session's vote; returns (feedback, created)."""
    source = data["herkunft"]
    log = None
    if source != Feedback.Source.PAGE and data.get("suche"):
        log = QueryLog.objects.filter(pk=data["suche"]).first()
    query = log.normalized if log else ""
    return Feedback.objects.update_or_create(
        session_hash=session, page=page, source=source, query=query,
        defaults={"helpful": data["hilfreich"] == "ja", "comment": data["kommentar"],
                  "query_log": log,
                  "rank": data.get("rang") if source != Feedback.Source.PAGE else None},
    )
