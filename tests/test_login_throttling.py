"""Password guessing is throttled on every login form (django-axes, knowledge/settings/base.py).

Found in a review: 25 wrong passwords in a row were all answered 200, on the site's login
and the admin's alike. Now a pair of account and address is refused after
``AXES_FAILURE_LIMIT`` failures, with a German page; other accounts and addresses are not.
"""

from __future__ import annotations

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db
PASSWORD = "richtig-123456"
LOCKED = "Anmeldung vorübergehend gesperrt"


@pytest.fixture
def account(django_user_model):
    return django_user_model.objects.create_user("kaemmerei", password=PASSWORD)


def _login(client, username, password, url="/anmelden/", address="192.0.2.10"):
    return client.post(url, {"username": username, "password": password},
                       REMOTE_ADDR=address)


def _fail_until_the_limit(client, username="kaemmerei"):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _login(client, username, "falsch")
        assert response.status_code == 200  # the form again, with its error
        assert "Bitte Benutzername und Passwort eingeben" in response.content.decode()
    assert _login(client, username, "falsch").status_code == 429  # the limit-th failure


def test_the_limit_locks_the_account_from_that_address_with_a_german_page(client, account):
    _fail_until_the_limit(client)
    response = _login(client, "kaemmerei", PASSWORD)  # even the right password now
    assert response.status_code == 429
    html = response.content.decode()
    assert LOCKED in html and "15 Minuten" in html
    assert "_auth_user_id" not in client.session
    admin = _login(client, "kaemmerei", PASSWORD, url="/admin/login/")
    assert admin.status_code == 429 and LOCKED in admin.content.decode()


def test_others_are_not_locked_out(client, account, django_user_model):
    django_user_model.objects.create_user("bauamt", password=PASSWORD)
    _fail_until_the_limit(client)
    assert _login(client, "bauamt", PASSWORD).status_code == 302  # same address
    client.logout()
    elsewhere = _login(client, "kaemmerei", PASSWORD, address="198.51.100.7")
    assert elsewhere.status_code == 302  # same account, its owner at another address


def test_a_successful_login_resets_the_count(client, account):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "kaemmerei", "falsch")
    assert _login(client, "kaemmerei", PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "kaemmerei", "falsch")
    assert _login(client, "kaemmerei", PASSWORD).status_code == 302
