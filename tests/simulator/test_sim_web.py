"""The web login window: login page, CSRF-protected json.php login, home page, About, logout."""

import re

import pytest

from crm_simulator import CONNECTION_USER

LOGIN_FIELDS = {
    "language": "en_us",
    "theme": "Sleek",
    "login_module": "Home",
    "login_action": "index",
    "res_width": "1920",
    "res_height": "1080",
    "gmto": "60",
}


def _login(client, user_name, password, *, csrf=True):
    page = client.get("/login.php")
    assert page.status_code == 200
    token = client.http.cookies.get("onecrm_csrf_token")
    headers = {"x-onecrm-csrf-token": token} if csrf else {}
    return client.post("/json.php", params={"action": "login"}, headers=headers,
                       data={"username": user_name, "password": password, **LOGIN_FIELDS})


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
                    r'id="login_error"'):
        assert re.search(pattern, page), pattern
    assert "json.php?action=login" in page and "x-onecrm-csrf-token" in page and "fetch(" in page
    assert "g-recaptcha" not in page
    cookie = next(c for c in web.http.cookies if c.name == "onecrm_csrf_token")
    assert cookie.path == "/1crm"
    assert "<title>1CRM: Login</title>" in web.get("/index.php", params={"module": "Users", "action": "Login"}).text


def test_login_without_csrf_header_is_refused(web, healthy):
    reply = _login(web, CONNECTION_USER, healthy.password, csrf=False)
    assert reply.status_code == 400
    assert reply.json() == {"message": "Invalid or missing CSRF token"}
    assert "PHPSESSID" not in reply.cookies


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
    reply = web.http.get(healthy.url.rsplit("/1crm", 1)[0] + "/login.php", timeout=10)
    assert reply.status_code == 404
    # not part of the CRM: kept apart from stats.requests, whose paths are relative to the base path
    assert healthy.stats.stray_requests[-1] == ("GET", "/login.php", "")
    assert healthy.stats.requests[-1] != ("GET", "/login.php", "")
