"""The web login window: login page, json.php login (JSON body, CSRF header checked where a preset sets the cookie),
home page, About, logout; localised and info@hand-branded pages."""

import re

import pytest

from crm_simulator import CONNECTION_USER, Simulator

LOGIN_FIELDS = {
    "language": "en_us",
    "theme": "Sleek",
    "login_module": "Home",
    "login_action": "index",
    "res_width": "1920",
    "res_height": "1080",
    "gmto": "60",
}


def _login(client, user_name, password, *, csrf=None, form=False):
    """As the login page's script posts: a JSON body; the CSRF header only where given (or the cookie's, csrf=True)."""
    page = client.get("/login.php")
    assert page.status_code == 200
    token = client.http.cookies.get("onecrm_csrf_token") if csrf is True else csrf
    headers = {"x-onecrm-csrf-token": token} if token else {}
    fields = {"username": user_name, "password": password, **LOGIN_FIELDS}
    body = {"data": fields} if form else {"json": fields}
    return client.post("/json.php", params={"action": "login"}, headers=headers, **body)


@pytest.fixture
def web(client_for, healthy):
    """A fresh browser-like session (own cookie jar) per test."""
    return client_for(healthy)


def test_login_page_has_the_1crm_form(web):
    reply = web.get("/login.php")
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("text/html")
    page = reply.text
    assert "<title>1CRM: Login</title>" in page
    for pattern in (r'<input[^>]*name="user_name"[^>]*id="login_user"',
                    r'<input[^>]*type="password"[^>]*name="user_password"[^>]*id="login_pass"',
                    r'<select[^>]*name="user_theme"[^>]*id="login_theme"',
                    r'<select[^>]*name="user_language"[^>]*id="login_lang"',
                    r'<button[^>]*id="login_button"',
                    r'<tr id="error_row"[^>]*><td id="error_message"'):
        assert re.search(pattern, page), pattern
    assert "json.php?action=login" in page and "JSON.stringify" in page and "fetch(" in page
    assert "g-recaptcha" not in page
    assert "onecrm_csrf_token" not in web.http.cookies  # the healthy server sets no CSRF cookie
    assert "<title>1CRM: Login</title>" in web.get("/index.php", params={"module": "Users", "action": "Login"}).text


def test_a_form_encoded_login_post_is_refused_as_json_php_would(web, healthy):
    reply = _login(web, CONNECTION_USER, healthy.password, form=True)
    assert reply.json() == {"message": "You must specify a valid username and password."}
    assert "PHPSESSID" not in web.http.cookies


def test_the_csrf_header_is_not_demanded(web, healthy):
    assert _login(web, CONNECTION_USER, healthy.password).json()["result"] == "ok"


def test_a_csrf_cookie_preset_checks_the_header_when_one_is_sent(client_for):
    with Simulator("csrf-cookie", tls=False) as sim:
        cookie = client_for(sim)
        cookie.get("/login.php")
        assert next(c for c in cookie.http.cookies if c.name == "onecrm_csrf_token").path == "/1crm"
        wrong = _login(client_for(sim), CONNECTION_USER, sim.password, csrf="not-the-cookie")
        assert wrong.status_code == 400 and wrong.json() == {"message": "Invalid CSRF token"}
        assert _login(client_for(sim), CONNECTION_USER, sim.password, csrf=True).json()["result"] == "ok"
        assert _login(client_for(sim), CONNECTION_USER, sim.password).json()["result"] == "ok"  # none sent


@pytest.mark.parametrize("preset, titles, about", [
    ("localised", ("1CRM: Anmeldung", "1CRM: Startseite"), "1CRM 8.7.7 Enterprise Edition"),
    ("info-at-hand", ("info@hand: Login", "info@hand: Home Dashboard"), "info@hand Version 7.1.3"),
])
def test_localised_and_branded_pages(client_for, preset, titles, about):
    with Simulator(preset, tls=False) as sim:
        c = client_for(sim)
        assert f"<title>{titles[0]}</title>" in c.get("/login.php").text
        assert _login(c, CONNECTION_USER, sim.password).json()["result"] == "ok"
        assert f"<title>{titles[1]}</title>" in c.get("/index.php", params={"module": "Home", "action": "index"}).text
        assert about in c.get("/index.php", params={"module": "Home", "action": "About"}).text


def test_wrong_password_is_refused_with_1crm_message(web):
    reply = _login(web, CONNECTION_USER, "wrong")
    assert reply.status_code == 200
    assert reply.json() == {"message": "You must specify a valid username and password."}
    assert "PHPSESSID" not in web.http.cookies


def test_inactive_user_cannot_sign_in(web):
    assert "message" in _login(web, "dana.dormant", "whatever").json()


def test_full_web_flow_login_home_about_logout(web, healthy):
    sessions_before = healthy.active_web_sessions()
    reply = _login(web, CONNECTION_USER, healthy.password)
    assert reply.status_code == 200
    assert reply.json() == {"result": "ok", "redirect": "index.php?module=Home&action=index"}
    set_cookie = reply.headers["Set-Cookie"]
    assert re.search(r"PHPSESSID=[0-9a-f]{32}", set_cookie)
    assert "HttpOnly" in set_cookie and "Path=/1crm" in set_cookie
    assert healthy.active_web_sessions() == sessions_before + 1

    home = web.get("/index.php", params={"module": "Home", "action": "index"})
    assert home.status_code == 200
    assert "<title>1CRM: Home Dashboard</title>" in home.text and "Riva Service" in home.text
    about = web.get("/index.php", params={"module": "Home", "action": "About"})
    assert "1CRM 8.7.7 Enterprise Edition" in about.text

    out = web.get("/index.php", params={"module": "Users", "action": "Logout"})
    assert out.status_code == 302 and out.headers["Location"].endswith("login.php")
    assert healthy.active_web_sessions() == sessions_before
    again = web.get("/index.php", params={"module": "Home", "action": "index"})
    assert again.status_code == 302 and again.headers["Location"].endswith("login.php")


def test_home_without_session_redirects_to_login(web):
    reply = web.get("/index.php", params={"module": "Home", "action": "index"})
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/1crm/login.php")
    followed = web.get("/index.php", params={"module": "Home", "action": "index"}, allow_redirects=True)
    assert "<title>1CRM: Login</title>" in followed.text


def test_stolen_or_made_up_session_cookie_does_not_work(web):
    web.http.cookies.set("PHPSESSID", "0" * 32, path="/1crm")
    assert web.get("/index.php", params={"module": "Home", "action": "index"}).status_code == 302


def test_paths_outside_the_base_path_are_404(web, healthy):
    before = len(healthy.stats.requests)
    reply = web.http.get(healthy.url.rsplit("/1crm", 1)[0] + "/login.php", timeout=10)
    assert reply.status_code == 404
    # not part of the CRM: kept apart from stats.requests, whose paths are relative to the base path
    assert healthy.stats.stray_requests[-1] == ("GET", "/login.php", "")
    assert len(healthy.stats.requests) == before
