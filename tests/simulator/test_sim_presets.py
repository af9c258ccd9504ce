"""Each preset's distinguishing behaviour, TLS certificates, determinism, and the Simulator object."""

import socket
import ssl
import time
import warnings
from pathlib import Path

import pytest
import requests

from crm_simulator import PRESETS, Preset, Simulator

TOKEN = "/api.php/auth/user/access_token"


def test_every_preset_has_a_one_line_description():
    assert "healthy" in PRESETS and len(PRESETS) >= 18
    for name, preset in PRESETS.items():
        assert isinstance(preset, Preset) and preset.name == name
        assert preset.description and "\n" not in preset.description


def test_unknown_preset_is_a_clear_error():
    with pytest.raises(ValueError, match=r"^unknown simulator preset 'no-such-preset' \(python -m crm_simulator "
                                         r"--list-presets lists them\)$"):
        Simulator("no-such-preset")
    with pytest.raises(ValueError, match="unknown simulator preset 'helthy' — did you mean 'healthy'?"):
        Simulator("helthy")


# ----- the Simulator object ------------------------------------------------------------------------


def test_simulator_lifecycle_and_env(healthy):
    assert healthy.url.startswith("https://localhost:") and healthy.url.endswith("/1crm")
    assert Path(healthy.ca_bundle).is_file()
    env = healthy.env()
    assert env == {
        "CRM_URL": healthy.url,
        "CRM_USERNAME": "riva_svc",
        "CRM_PASSWORD": "Sim-Riva-Pass-1",
        "CRM_CLIENT_ID": "riva-readiness",
        "CRM_CLIENT_SECRET": "sim-client-secret",
        "CRM_CA_BUNDLE": healthy.ca_bundle,
        "RIVA_TARGETS_FILE": env["RIVA_TARGETS_FILE"],
        "PROBE_ALICE_ARCHER_PASSWORD": "Sim-Alice-Pass-1",
        "PROBE_BOB_BAKER_PASSWORD": "Sim-Bob-Pass-1",
        "READINESS_SERVER_FACTS": env["READINESS_SERVER_FACTS"],
    }
    assert Path(env["READINESS_SERVER_FACTS"]).is_file()


def test_start_stop_is_idempotent_and_cleans_up():
    sim = Simulator("healthy", base_path="/").start()
    bundle, url = Path(sim.ca_bundle), sim.url
    assert url.count("/") == 2  # no base path, no trailing slash
    assert sim.start() is sim
    started = time.monotonic()
    sim.stop()
    assert time.monotonic() - started < 2
    sim.stop()
    assert not bundle.exists() and sim.ca_bundle is None
    s = requests.Session()
    s.trust_env = False
    with pytest.raises(requests.ConnectionError):
        s.get(url + "/api.php/version", verify=False, timeout=2)


def test_two_simulators_at_once_have_identical_deterministic_data(client_for):
    with Simulator("plain-http") as one, Simulator("plain-http") as two:
        assert one.port != two.port
        lists = []
        for sim in (one, two):
            c = client_for(sim)
            token = c.token()
            users = c.get("/api.php/data/User", token=token,
                          params={"limit": 200, "fields[]": ["user_name", "email1", "status", "date_entered"]}).json()
            contacts = c.get("/api.php/data/Contact", token=token, params={"limit": 200}).json()
            lists.append((users, contacts))
        assert lists[0] == lists[1]
        # the two servers are independent
        c1 = client_for(one)
        c1.post("/api.php/data/Note", token=c1.token(), json={"data": {"name": "only on one"}})
        assert one.stats.data_writes == 1 and two.stats.data_writes == 0


# ----- TLS -------------------------------------------------------------------------------------------


def _handshake(sim, hostname="localhost"):
    context = ssl.create_default_context(cafile=sim.ca_bundle)
    with socket.create_connection(("127.0.0.1", sim.port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=hostname) as tls:
            return tls.getpeercert(), tls.version()


def _verify_error(sim) -> ssl.SSLCertVerificationError:
    with pytest.raises(ssl.SSLCertVerificationError) as info:
        _handshake(sim)
    return info.value


def test_healthy_certificate_verifies_with_the_bundle(healthy, client):
    cert, version = _handshake(healthy)
    assert version in ("TLSv1.2", "TLSv1.3")
    assert ("DNS", "localhost") in cert["subjectAltName"] and ("IP Address", "127.0.0.1") in cert["subjectAltName"]
    assert ssl.cert_time_to_seconds(cert["notAfter"]) - time.time() > 300 * 86400
    _handshake(healthy, hostname="127.0.0.1")
    assert client.get("/api.php/version").status_code == 200  # requests with verify=<bundle>


def test_server_refuses_tls_below_1_2(healthy):
    context = ssl.create_default_context(cafile=healthy.ca_bundle)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.1 is deprecated: that is the point
        context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    with socket.create_connection(("127.0.0.1", healthy.port), timeout=5) as raw:
        with pytest.raises(ssl.SSLError):
            context.wrap_socket(raw, server_hostname="localhost")


def test_a_silent_tcp_client_does_not_block_the_server(healthy, client):
    with socket.create_connection(("127.0.0.1", healthy.port), timeout=5):
        assert client.get("/api.php/version", timeout=5).status_code == 200


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
@pytest.mark.parametrize(
    "preset, expected",
    [
        ("untrusted-cert", "unable to get local issuer certificate"),
        ("wrong-host-cert", "Hostname mismatch"),
        ("expired-cert", "certificate has expired"),
    ],
)
def test_bad_certificates_fail_verification(preset, expected):
    with Simulator(preset) as sim:
        assert sim.ca_bundle and sim.env()["CRM_CA_BUNDLE"] == sim.ca_bundle
        error = _verify_error(sim)
        assert expected in error.verify_message
        with pytest.raises(requests.exceptions.SSLError):
            s = requests.Session()
            s.trust_env = False
            s.get(sim.url + "/api.php/version", verify=sim.ca_bundle, timeout=5)
        # without verification the server itself works
        s = requests.Session()
        s.trust_env = False
        assert s.get(sim.url + "/api.php/version", verify=False, timeout=5).status_code == 200


def test_expiring_certificate_is_valid_but_expires_within_30_days():
    with Simulator("expiring-cert") as sim:
        cert, _ = _handshake(sim)
        days_left = (ssl.cert_time_to_seconds(cert["notAfter"]) - time.time()) / 86400
        assert 9 < days_left <= 10


def test_tls_can_be_forced_off_and_on():
    with Simulator("healthy", tls=False) as sim:
        assert sim.url.startswith("http://127.0.0.1:") and sim.ca_bundle is None
        assert "CRM_CA_BUNDLE" not in sim.env()
    with Simulator("plain-http", tls=True) as sim:
        assert sim.url.startswith("https://localhost:") and sim.ca_bundle


# ----- API-level presets -------------------------------------------------------------------------------


def test_startup_edition_has_no_api(client_for):
    with Simulator("startup-edition", tls=False) as sim:
        c = client_for(sim)
        for method, path in (("GET", "/api.php/version"), ("POST", TOKEN), ("GET", "/api.php/data/User")):
            reply = c.request(method, path, json={})
            assert reply.status_code == 403
            assert reply.json() == {"message": "The REST API is not available in this edition"}
        assert c.get("/login.php").status_code == 200


def test_non_tls_refused(client_for):
    with Simulator("non-tls-refused") as sim:
        assert sim.url.startswith("http://127.0.0.1:") and sim.ca_bundle is None
        c = client_for(sim)
        for path in ("/api.php/version", "/api.php/me"):
            reply = c.get(path)
            assert reply.status_code == 403
            assert reply.json() == {"error": "tls_required", "message": "API requests must use HTTPS"}
        assert c.grant().status_code == 403
        assert c.get("/login.php").status_code == 200


def test_plain_http_works(client_for):
    with Simulator("plain-http") as sim:
        assert sim.url.startswith("http://127.0.0.1:") and "CRM_CA_BUNDLE" not in sim.env()
        c = client_for(sim)
        assert c.get("/api.php/me", token=c.token()).status_code == 200


def test_plain_http_on_the_tls_port_is_answered_as_apache_answers_it():
    import requests

    with Simulator("healthy") as sim:
        session = requests.Session()
        session.trust_env = False
        reply = session.get(sim.env()["CRM_URL"].replace("https://", "http://") + "/login.php", timeout=5)
        assert reply.status_code == 400 and "speaking plain HTTP to an SSL-enabled server port" in reply.text
        # and the port still serves TLS to the next client
        assert session.get(sim.env()["CRM_URL"] + "/api.php/version", verify=sim.env()["CRM_CA_BUNDLE"],
                           timeout=5).status_code == 200


def test_accepts_any_login(client_for):
    with Simulator("accepts-any-login", tls=False) as sim:
        c = client_for(sim)
        reply = c.grant("no-such-user-8f2c", password="anything")
        assert reply.status_code == 200
        me = c.get("/api.php/me", token=reply.json()["access_token"]).json()
        assert me["name"] == "Guest User"
        assert c.grant(password="wrong").status_code == 200
        assert _web_login(c, "no-such-user-8f2c", "x").json()["result"] == "ok"


def test_version_hidden(client_for):
    with Simulator("version-hidden", tls=False) as sim:
        c = client_for(sim)
        reply = c.get("/api.php/version")
        assert reply.status_code == 404 and reply.headers["Content-Type"].startswith("application/json")
        assert c.get("/api.php/me", token=c.token()).status_code == 200
        _web_login(c)
        about = c.get("/index.php", params={"module": "Home", "action": "About"})
        assert about.status_code == 200 and "8.7.7" not in about.text and "Edition" not in about.text


def test_connection_user_inactive(client_for):
    with Simulator("connection-user-inactive", tls=False) as sim:
        c = client_for(sim)
        reply = c.grant()
        assert reply.status_code == 400 and reply.json()["error"] == "invalid_grant"
        admin = c.token("admin")
        users = c.get("/api.php/data/User", token=admin,
                      params={"filters[user_name]": "riva_svc", "fields[]": "status"}).json()
        assert users["records"][0]["status"] == "Inactive"


# ----- web-level presets --------------------------------------------------------------------------------


def _web_login(c, user="riva_svc", password=None):
    """As the login page's script does it: a JSON body, no CSRF header (the healthy server sets no CSRF cookie)."""
    c.get("/login.php")
    return c.post("/json.php", params={"action": "login"},
                  json={"username": user, "password": password or c.sim.password, "language": "en_us"})


def test_no_login_page(client_for):
    with Simulator("no-login-page", tls=False) as sim:
        c = client_for(sim)
        for reply in (c.get("/login.php"), c.get("/index.php", params={"module": "Users", "action": "Login"})):
            assert reply.status_code == 404
            assert reply.headers["Content-Type"].startswith("text/html") and "Not Found" in reply.text
        assert c.get("/api.php/me", token=c.token()).status_code == 200


def test_not_1crm(client_for):
    with Simulator("not-1crm", tls=False) as sim:
        c = client_for(sim)
        reply = c.get("/login.php")
        assert reply.status_code == 200 and "It works!" in reply.text
        assert "login_user" not in reply.text and "1CRM" not in reply.text
        assert c.get("/api.php/version").status_code == 404


def test_human_check(client_for):
    with Simulator("human-check", tls=False) as sim:
        c = client_for(sim)
        page = c.get("/login.php").text
        assert 'class="g-recaptcha"' in page and "data-sitekey=" in page and "recaptcha/api.js" in page
        assert 'id="login_user"' in page
        reply = _web_login(c)
        assert reply.status_code == 200 and reply.json() == {"message": "Please complete the human check."}
        assert c.get("/api.php/me", token=c.token()).status_code == 200  # the API is not affected


def test_human_check_widget_is_served_by_the_simulator_itself(client_for):
    """A browser driven against the simulator never reaches out of this machine."""
    with Simulator("human-check", tls=False) as sim:
        c = client_for(sim)
        page = c.get("/login.php").text
        assert "http://" not in page and "https://" not in page
        script = c.get("/recaptcha/api.js")
        assert script.status_code == 200 and "g-recaptcha" in script.text
        assert script.headers["Content-Type"].startswith("text/javascript")


@pytest.mark.parametrize("preset, path", [("login-page-hangs", "/login.php"),
                                          ("home-page-hangs", "/index.php?module=Home&action=index")])
def test_hanging_page_starts_then_stalls_until_the_simulator_stops(client_for, preset, path):
    with Simulator(preset, tls=False) as sim:
        c = client_for(sim)
        if preset == "home-page-hangs":
            assert _web_login(c).json()["result"] == "ok"  # signing in itself is not slowed down
        started = time.monotonic()
        with pytest.raises(requests.exceptions.ConnectionError, match="timed out"):  # a read time-out mid-page
            c.get(path, timeout=0.5).text
        assert time.monotonic() - started < 2
        reply = c.get(path, stream=True, timeout=5)
        assert reply.status_code == 200 and reply.raw.read(15) == b"<!DOCTYPE html>"  # the first bytes at once
        started = time.monotonic()
    assert time.monotonic() - started < 3  # stopping releases the stalled page (bounded at 30 s anyway)


def test_session_lost(client_for):
    with Simulator("session-lost", tls=False) as sim:
        c = client_for(sim)
        reply = _web_login(c)
        assert reply.json() == {"result": "ok", "redirect": "index.php?module=Home&action=index"}
        assert "PHPSESSID" in c.http.cookies
        home = c.get("/index.php", params={"module": "Home", "action": "index"})
        assert home.status_code == 302 and home.headers["Location"].endswith("login.php")
        assert sim.active_web_sessions() == 0


# ----- stats ------------------------------------------------------------------------------------------------


def test_stats_survive_stop():
    sim = Simulator("plain-http").start()
    s = requests.Session()
    s.trust_env = False
    s.get(sim.url + "/api.php/version", timeout=5)
    sim.stop()
    assert sim.stats.count("GET", "/api.php/version") == 1
