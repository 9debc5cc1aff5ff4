"""Scratch review tests (matching & related material). To be deleted."""

import re

import pytest
from django.contrib.auth.models import Group
from wagtail.models import PageViewRestriction

from tests.search_fixtures import *  # noqa: F403
from tests.test_matching import DESCRIPTION, corpus  # noqa: F401

pytestmark = pytest.mark.django_db


def _links(html, cls="related-material"):
    return [re.findall(r'<a href="([^"]+)">', a)
            for a in re.findall(r'<aside[^>]*class="' + cls + r'[^"]*".*?</aside>', html, re.S)]


def test_project_page_lists_same_pages_twice(client, corpus):
    html = client.get(corpus["project"].url).content.decode()
    lists = _links(html)
    print(lists)
    assert len(lists) == 2
    print("overlap", set(lists[0]) & set(lists[1]))
    assert set(lists[0]) & set(lists[1])


def test_members_label_lists_project_as_protocol(client, corpus):
    response = client.post("/lernen/", {"description": DESCRIPTION})
    html = response.content.decode()
    m = re.search(r'Weitere passende Protokolle dieses Projekts:</p>\s*<ul class="members">(.*?)</ul>',
                  html, re.S)
    print(m and m.group(1))


def test_group_restricted_and_password(client, corpus, synced, user_in, indexed_page):
    secret = indexed_page(
        "best_practice", title="Geheime Scanstelle Blomberg", municipality="Blomberg",
        topics=["E-Akte und Dokumentenmanagement"],
        summary="Blomberg scannt den Posteingang zentral in einer Scanstelle.",
        problem="Posteingang auf Papier, Briefe wandern tagelang.",
        solution="Zentrale Scanstelle verteilt die gescannte Post an die Fachbereiche.")
    pw = indexed_page(
        "best_practice", title="Passwort Scanstelle Vlotho", municipality="Vlotho",
        topics=["E-Akte und Dokumentenmanagement"],
        summary="Vlotho scannt den Posteingang zentral in einer Scanstelle.",
        problem="Posteingang auf Papier, Briefe wandern tagelang.",
        solution="Zentrale Scanstelle verteilt die gescannte Post an die Fachbereiche.")
    with synced():
        r = PageViewRestriction.objects.create(page=secret,
                                               restriction_type=PageViewRestriction.GROUPS)
        r.groups.add(Group.objects.get(name="Redaktion"))
        PageViewRestriction.objects.create(page=pw, restriction_type=PageViewRestriction.PASSWORD,
                                           password="geheim")
    kommune = user_in("Kommune")
    redaktion = user_in("Redaktion")
    for who, user in (("redaktion", redaktion), ("anon", None), ("kommune", kommune)):
        client.logout()
        if user:
            client.force_login(user)
        pages = {
            "lernen": client.post("/lernen/", {"description": DESCRIPTION}).content.decode(),
            "related": client.get(corpus["lesson1"].url).content.decode(),
            "project": client.get(corpus["project"].url).content.decode(),
            "profile_b": client.get("/kommunen/blomberg/").content.decode(),
            "profile_o": client.get("/kommunen/oerlinghausen/").content.decode(),
            "list": client.get("/kommunen/?thema=e-akte-und-dokumentenmanagement").content.decode(),
            "matrix": client.get("/uebersicht/").content.decode(),
        }
        for name, html in pages.items():
            print(who, name, "Geheime" in html, "Passwort Scanstelle" in html,
                  "Blomberg" in html, "Vlotho" in html)
        prof = re.search(r'similar-heading.*?</aside>', pages["profile_o"], re.S).group(0)
        print(who, "profile_o similar:", re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", prof)))


def test_matrix_total_counts_only_tagged(client, make_page):
    make_page("best_practice", municipality="Lemgo", topics=[], title="Ohne Thema")
    make_page("best_practice", municipality="Lemgo", title="Mit Thema")
    html = client.get("/uebersicht/").content.decode()
    row = re.search(r'<th scope="row"><a [^>]*>Lemgo</a></th>(.*?)</tr>', html, re.S).group(1)
    total = re.search(r'<td class="total"><a href="([^"]+)">(\d+)</a>', row)
    print("matrix total", total.groups())
    listing = client.get(total.group(1).replace("&amp;", "&")).content.decode()
    print("listing count", re.search(r'result-count[^>]*>([^<]*)', listing).group(1))
    profile = client.get("/kommunen/lemgo/").content.decode()
    print("profile", re.search(r'class="summary">([^<]*)', profile).group(1))


def test_lernen_not_throttled(client, corpus, monkeypatch):
    from ninja.throttling import AnonRateThrottle

    from search.api import api

    monkeypatch.setattr(api, "throttle", [AnonRateThrottle("2/m")])
    api_codes = [client.post("/api/v1/match", {"description": "Posteingang scannen"},
                             content_type="application/json").status_code for _ in range(4)]
    page_codes = [client.post("/lernen/", {"description": "Posteingang scannen"}).status_code
                  for _ in range(6)]
    print(api_codes, page_codes)


def test_windows_bullets_without_periods(embedder):
    from search.matching import _windows

    bullets = "\n".join(f"- Punkt {n}: Scanstelle für den Posteingang einrichten, Personal "
                        f"schulen und Fachbereiche {n} anbinden" for n in range(60))
    windows = _windows(bullets, embedder)
    budget = max(32, embedder.max_tokens - 8)
    print(len(bullets), len(windows), [embedder.count_tokens(w) for w in windows], budget)
    semi = "; ".join(f"Punkt {n} Scanstelle für den Posteingang einrichten und Personal schulen"
                     for n in range(60))
    windows = _windows(semi, embedder)
    print(len(semi), len(windows), [embedder.count_tokens(w) for w in windows], budget)


def test_long_window_embedding(embedder):
    import numpy as np
    semi = "; ".join(f"Punkt {n} Scanstelle für den Posteingang einrichten und Personal schulen"
                     for n in range(60))
    head = semi[:1500]
    tail_changed = semi + "; Außerdem wollen wir KI-Chatbots für Bürgeranfragen und Livestreams der Ratssitzungen"
    a = embedder.embed_query(semi)
    b = embedder.embed_query(tail_changed)
    print("cos full vs tail-changed", float(np.dot(a, b)))
