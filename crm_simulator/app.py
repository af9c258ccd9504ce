"""The simulated 1CRM as a Flask app: the REST API (api.py) and the web pages (web.py) as blueprints.

Behaviour follows shared/reference/1crm-api.md. Whatever that page labels [assumed] is marked
``# [assumed]`` here too. Paths are relative to the base path (the WSGI mount in server.py strips
it into SCRIPT_NAME), so ``request.path`` is e.g. ``/api.php/data/User``.
"""

from __future__ import annotations

import html

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from . import api, web
from .context import EXTENSION, ApiError, ServerContext
from .presets import LOGIN_NOT_1CRM
from .store import StoreError
from .web import IT_WORKS_PAGE, NOT_FOUND_PAGE, html_page, html_response

def is_api() -> bool:
    return request.path == "/api.php" or request.path.startswith("/api.php/")


def create_app(ctx: ServerContext) -> Flask:
    app = Flask("crm_simulator")
    app.json.sort_keys = False  # keep 1CRM's key order
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.extensions[EXTENSION] = ctx  # what the blueprints' views reach through context.py
    preset = ctx.preset

    # ----- errors ------------------------------------------------------------------------------

    @app.errorhandler(ApiError)
    def api_error(e: ApiError):
        return jsonify(e.body), e.status

    @app.errorhandler(StoreError)
    def store_error(e: StoreError):
        return jsonify({"message": e.message, "error": e.error}), e.status

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        if is_api() or request.path == "/json.php":
            error = (e.name or "error").lower().replace(" ", "_")
            return jsonify({"message": e.description or e.name, "error": error}), e.code
        if e.code == 404:
            return html_response(NOT_FOUND_PAGE, 404)
        return html_response(html_page(f"{e.code} {e.name}", f"<h1>{html.escape(e.name)}</h1>"), e.code or 500)

    @app.errorhandler(Exception)
    def unexpected(e: Exception):
        app.logger.exception("simulator error")  # visible in test output; never sent to the client
        if is_api() or request.path == "/json.php":
            return jsonify({"message": "Internal server error", "error": "server_error"}), 500
        return html_response(html_page("500 Internal Server Error", "<h1>Internal Server Error</h1>"), 500)

    # ----- server-wide gates -------------------------------------------------------------------

    @app.before_request
    def gates():
        if preset.login_page == LOGIN_NOT_1CRM:
            # A generic web server lives at this address: no 1CRM anywhere.
            if request.path in ("/", "/login.php"):
                return html_response(IT_WORKS_PAGE)
            return html_response(NOT_FOUND_PAGE, 404)
        if is_api():
            if not preset.api_php:
                return html_response(NOT_FOUND_PAGE, 404)  # info@hand before 8: no api.php; the web server's page
            if not preset.api_available:
                # [assumed] body; 403 on every API call of a Startup edition is known
                return jsonify({"message": "The REST API is not available in this edition"}), 403
            if not request.is_secure and not preset.allow_non_tls_api:
                # [assumed] body; rejecting non-TLS API calls by default is known
                return jsonify({"error": "tls_required", "message": "API requests must use HTTPS"}), 403
        return None

    # after the gates: the API's own before-request hook (slow writes) runs second
    app.register_blueprint(api.bp)
    app.register_blueprint(web.bp)
    return app
