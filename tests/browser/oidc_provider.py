"""A small OpenID Connect provider on 127.0.0.1, for exercising st.login for real in tests.

Authlib's server classes do the protocol (authorization code grant, PKCE S256, OpenID nonce,
RS256 id_token); this module adds what a framework would: a WSGI app over the standard
library's server, in-memory clients, codes and tokens, and a sign-in form where a test types
an email and password. Endpoints: /.well-known/openid-configuration, /authorize (GET shows
the form, POST signs in), /token, /jwks, /userinfo. The RSA key is generated per provider.

    with OpenIDProvider({"we@example.com": "secret"}) as provider:
        provider.register_client("app", "secret", "http://127.0.0.1:8501/oauth2callback")
        provider.metadata_url   # -> [auth] server_metadata_url
"""

from __future__ import annotations

import dataclasses
import html
import json
import secrets
import socketserver
import threading
import time
from collections import defaultdict
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import OAuth2Payload
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode, UserInfo
from joserfc.jwk import RSAKey


@dataclasses.dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        allowed = {"openid", "email", "profile"}
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclasses.dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    email: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


class _Payload(OAuth2Payload):
    def __init__(self, pairs: list[tuple[str, str]]):
        self._datalist: dict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(value)
        self._data = {key: values[0] for key, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:
        return self._datalist


class _Request(OAuth2Request):
    """A WSGI request as Authlib sees it: query and form values together, like Flask's."""

    def __init__(self, environ: dict[str, Any], form: list[tuple[str, str]]):
        query = environ.get("QUERY_STRING", "")
        uri = f"http://{environ['HTTP_HOST']}{environ['PATH_INFO']}" + (
            f"?{query}" if query else ""
        )
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        super().__init__(environ["REQUEST_METHOD"], uri, headers=headers)
        self._args = dict(parse_qsl(query))
        self._form = dict(form)
        self.payload = _Payload(parse_qsl(query) + form)

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class OpenIDProvider:
    """The provider, served on 127.0.0.1 from a background thread while in a `with` block."""

    def __init__(self, passwords: dict[str, str]):
        self.passwords = dict(passwords)  # email -> password: the provider's own accounts
        self.key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8)})
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, tuple[str, str]] = {}  # access token -> (email, scope)
        self.sign_ins: list[str] = []  # emails signed in, in order: what the test can check
        self._lock = threading.Lock()
        self._httpd: WSGIServer | None = None
        self.issuer = ""
        self.server = self._authorization_server()

    # --- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> OpenIDProvider:
        self._httpd = make_server(
            "127.0.0.1", 0, self.wsgi, server_class=_ThreadingServer, handler_class=_QuietHandler
        )
        self.issuer = f"http://127.0.0.1:{self._httpd.server_port}"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def register_client(self, client_id: str, client_secret: str, *redirect_uris: str) -> None:
        self.clients[client_id] = Client(client_id, client_secret, redirect_uris)

    # --- Authlib wiring ------------------------------------------------------------------

    def _authorization_server(self) -> AuthorizationServer:
        provider = self

        class Server(AuthorizationServer):
            def query_client(self, client_id):
                return provider.clients.get(client_id)

            def save_token(self, token, request):
                with provider._lock:
                    provider.tokens[token["access_token"]] = (request.user, token["scope"])

            def create_oauth2_request(self, request):
                return request

            def handle_response(self, status, body, headers):
                return status, body, headers

            def send_signal(self, name, *args, **kwargs):
                pass

        class CodeGrant(AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = [
                "client_secret_basic",
                "client_secret_post",
            ]

            def save_authorization_code(self, code, request):
                data = request.payload.data
                with provider._lock:
                    provider.codes[code] = Code(
                        code,
                        request.client.client_id,
                        data["redirect_uri"],
                        request.scope,
                        request.user,
                        data.get("nonce"),
                        data.get("code_challenge"),
                        data.get("code_challenge_method"),
                        int(time.time()),
                    )

            def query_authorization_code(self, code, client):
                found = provider.codes.get(code)
                return found if found and found.client_id == client.client_id else None

            def delete_authorization_code(self, authorization_code):
                with provider._lock:
                    provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code):
                return authorization_code.email

        class OpenID(OpenIDCode):
            def resolve_client_private_key(self, client):
                return provider.key

            def get_client_algorithm(self, client):
                return "RS256"

            def get_encode_header(self, client):
                return {"alg": "RS256", "kid": provider.key.kid}

            def get_client_claims(self, client):
                return {"iss": provider.issuer, "aud": [client.client_id]}

            def exists_nonce(self, nonce, request):
                return any(code.nonce == nonce for code in provider.codes.values())

            def generate_user_info(self, user, scope):
                return provider.user_info(user, scope)

        server = Server()
        server.register_token_generator("default", BearerTokenGenerator(_token, None))
        server.register_grant(CodeGrant, [OpenID(require_nonce=True), CodeChallenge(required=True)])
        return server

    def user_info(self, email: str, scope: str) -> UserInfo:
        name = email.split("@")[0].replace(".", " ").title()
        return UserInfo(sub=email, email=email, email_verified=True, name=name).filter(scope)

    # --- HTTP ----------------------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        form: list[tuple[str, str]] = []
        if environ["REQUEST_METHOD"] == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            form = parse_qsl(environ["wsgi.input"].read(length).decode())
        request = _Request(environ, form)
        route = (environ["REQUEST_METHOD"], environ["PATH_INFO"])
        handlers = {
            ("GET", "/.well-known/openid-configuration"): self._discovery,
            ("GET", "/jwks"): self._jwks,
            ("GET", "/authorize"): self._authorize_form,
            ("POST", "/authorize"): self._authorize,
            ("POST", "/token"): self._token,
            ("GET", "/userinfo"): self._userinfo,
        }
        handler = handlers.get(route)
        if handler is None:
            status, body, headers = 404, {"error": "not_found"}, []
        else:
            status, body, headers = handler(request)
        if isinstance(body, dict):
            body = json.dumps(body)
            headers = [*headers, ("Content-Type", "application/json")]
        headers = [*headers, ("Cache-Control", "no-store")]
        start_response(f"{status} {_REASONS.get(status, 'Status')}", list(headers))
        return [body.encode()]

    def _discovery(self, request: _Request) -> tuple[int, dict, list]:
        return (
            200,
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "code_challenge_methods_supported": ["S256"],
                "claims_supported": ["sub", "email", "email_verified", "name"],
            },
            [],
        )

    def _jwks(self, request: _Request) -> tuple[int, dict, list]:
        return 200, {"keys": [self.key.as_dict(private=False)]}, []

    def _authorize_form(self, request: _Request, problem: str = "") -> tuple[int, str, list]:
        try:
            self.server.get_consent_grant(request)
        except OAuth2Error as error:
            return 400, f"<p>Invalid sign-in request: {html.escape(error.error)}</p>", []
        query = html.escape(urlencode(request.args))
        note = f'<p role="alert">{html.escape(problem)}</p>' if problem else ""
        page = (
            "<!doctype html><title>Test provider · sign in</title><h1>Sign in</h1>"
            f'{note}<form method="post" action="/authorize?{query}">'
            '<label>Email <input name="email" type="email"></label>'
            '<label>Password <input name="password" type="password"></label>'
            '<button type="submit">Sign in</button></form>'
        )
        return 200, page, [("Content-Type", "text/html; charset=utf-8")]

    def _authorize(self, request: _Request) -> tuple[int, Any, list]:
        email = request.form.get("email", "").strip().lower()
        password = request.form.get("password", "")
        known = self.passwords.get(email)
        if known is None or not secrets.compare_digest(known, password):
            return self._authorize_form(request, "Wrong email or password.")
        grant = self.server.get_consent_grant(request, end_user=email)
        with self._lock:
            self.sign_ins.append(email)
        return self.server.create_authorization_response(request, grant_user=email, grant=grant)

    def _token(self, request: _Request) -> tuple[int, Any, list]:
        return self.server.create_token_response(request)

    def _userinfo(self, request: _Request) -> tuple[int, dict, list]:
        bearer = request.headers.get("Authorization", "")
        found = self.tokens.get(bearer.removeprefix("Bearer ").strip())
        if not bearer.startswith("Bearer ") or found is None:
            return 401, {"error": "invalid_token"}, [("WWW-Authenticate", "Bearer")]
        return 200, dict(self.user_info(*found)), []


def _token(*args: Any, **kwargs: Any) -> str:
    return secrets.token_urlsafe(32)


_REASONS = {200: "OK", 302: "Found", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass
