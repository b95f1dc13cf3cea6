"""The profile (/profile/): every user, agents included, chooses their language and time zone there; the
first zone comes from the browser at sign-in. Every change is in the audit log."""

from __future__ import annotations

import pytest
from django.test import Client

from channels_app.models import AuditEntry, UserPreferences
from tests.conftest import PASSWORD, login


def _preferences(user) -> tuple[str, str] | None:
    row = UserPreferences.objects.filter(user=user).values_list("language", "time_zone").first()
    return tuple(row) if row else None


@pytest.mark.django_db
def test_signed_out_visitors_are_sent_to_sign_in() -> None:
    response = Client().get("/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/profile/")


@pytest.mark.django_db
def test_the_profile_shows_the_current_choices(agent_a, agent_a_client, settings) -> None:
    page = agent_a_client.get("/profile/").content.decode()
    assert "Language and time zone" in page
    # Nothing chosen yet: the browser's language, and the server's zone until one is saved.
    assert '<option value="" selected>The browser&#x27;s language</option>' in page
    assert f'<option value="{settings.TIME_ZONE}" selected>' in page
    assert f"times are shown in {settings.TIME_ZONE} until you save one" in page
    assert '<option value="pt-br">Português (Brasil)</option>' in page  # each language named in itself
    assert 'href="/profile/api-tokens/"' in page  # the profile's other section


@pytest.mark.django_db
def test_an_agent_switches_to_portuguese_and_sao_paulo(agent_a, agent_a_client) -> None:
    response = agent_a_client.post("/profile/", {"language": "pt-br", "time_zone": "America/Sao_Paulo"})
    assert response.status_code == 302 and response["Location"] == "/profile/"
    assert _preferences(agent_a) == ("pt-br", "America/Sao_Paulo")

    page = agent_a_client.get("/profile/").content.decode()
    assert '<html lang="pt-br" ' in page
    assert "Preferências salvas." in page  # said in the language just chosen
    assert "Idioma e fuso horário" in page
    assert '<option value="America/Sao_Paulo" selected>America/Sao Paulo</option>' in page

    entry = AuditEntry.objects.get(action="preferences.updated")
    assert entry.actor == agent_a and entry.application is None and entry.target_repr == "alice"
    assert entry.changes == {
        "language": {"from": "", "to": "pt-br"},
        "time_zone": {"from": "", "to": "America/Sao_Paulo"},
    }


@pytest.mark.django_db
def test_saving_the_same_choices_again_records_nothing(agent_a_client) -> None:
    choices = {"language": "en", "time_zone": "Europe/Lisbon"}
    agent_a_client.post("/profile/", choices)
    agent_a_client.post("/profile/", choices)
    assert AuditEntry.objects.filter(action="preferences.updated").count() == 1


@pytest.mark.django_db
def test_an_unknown_time_zone_is_a_form_error_and_nothing_is_saved(agent_a, agent_a_client) -> None:
    response = agent_a_client.post("/profile/", {"language": "en", "time_zone": "Mars/Olympus_Mons"})
    assert response.status_code == 200
    assert "“Mars/Olympus_Mons” is not a time zone we know" in response.content.decode()
    assert _preferences(agent_a) is None
    # Control: a zone that exists is saved by the same form.
    agent_a_client.post("/profile/", {"language": "en", "time_zone": "America/Manaus"})
    assert _preferences(agent_a) == ("en", "America/Manaus")


@pytest.mark.django_db
def test_the_time_zone_error_is_in_portuguese_for_a_portuguese_browser(agent_a) -> None:
    client = login(agent_a)
    response = client.post(
        "/profile/", {"language": "", "time_zone": "Nowhere"}, HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9"
    )
    assert "“Nowhere” não é um fuso horário que conhecemos" in response.content.decode()


@pytest.mark.django_db
def test_an_unknown_language_is_refused(agent_a, agent_a_client) -> None:
    response = agent_a_client.post("/profile/", {"language": "fr", "time_zone": "UTC"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert _preferences(agent_a) is None


@pytest.mark.django_db
def test_the_browsers_language_follows_accept_language(agent_a, agent_a_client) -> None:
    agent_a_client.post("/profile/", {"language": "", "time_zone": "UTC"})
    portuguese = agent_a_client.get("/profile/", HTTP_ACCEPT_LANGUAGE="pt-BR").content.decode()
    english = agent_a_client.get("/profile/", HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert "Idioma e fuso horário" in portuguese
    assert "Language and time zone" in english


@pytest.mark.django_db
def test_the_profiles_language_wins_over_the_browsers(agent_a, agent_a_client) -> None:
    agent_a_client.post("/profile/", {"language": "en", "time_zone": "UTC"})
    page = agent_a_client.get("/profile/", HTTP_ACCEPT_LANGUAGE="pt-BR").content.decode()
    assert "Language and time zone" in page and "Idioma" not in page


@pytest.mark.django_db
def test_the_first_sign_in_takes_the_browsers_time_zone_and_later_ones_keep_the_choice(agent_a) -> None:
    page = Client().get("/accounts/login/").content.decode()
    assert '<input type="hidden" name="time_zone" value="">' in page  # filled by static/js/preferences.js

    def sign_in(zone: str) -> None:
        response = Client().post(
            "/accounts/login/", {"username": "alice", "password": PASSWORD, "time_zone": zone}
        )
        assert response.status_code == 302

    sign_in("not/a-zone")  # any client can post anything: ignored
    assert _preferences(agent_a) is None
    sign_in("America/Sao_Paulo")
    assert _preferences(agent_a) == ("", "America/Sao_Paulo")
    sign_in("Asia/Tokyo")  # a laptop on a trip does not move the user's zone
    assert _preferences(agent_a) == ("", "America/Sao_Paulo")
    assert AuditEntry.objects.filter(action="preferences.time_zone_from_browser").count() == 1


@pytest.mark.django_db
def test_a_failed_sign_in_keeps_the_username(agent_a) -> None:
    response = Client().post("/accounts/login/", {"username": "alice", "password": "wrong"})
    page = response.content.decode()
    assert "didn't match" in page
    assert 'name="username" id="id_username" value="alice"' in page
