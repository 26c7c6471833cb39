"""partsvc: spare parts, loaners, repairs and dispatch planning for field service."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, send_from_directory
from flask_smorest import Api

from partsvc import web
from partsvc.api import apidoc
from partsvc.api.resource import IdConverter, IsoDateConverter, SegmentConverter, segment_schema
from partsvc.core.worktime import WorkingCalendar
from partsvc.http import headers, operations, problems, throttle
from partsvc.http.context import raise_body_limit
from partsvc.http.renders import Renders
from partsvc.platform import logs
from partsvc.platform.config import INSTANCE_DIR, Settings
from partsvc.platform.db import Database, utcnow
from partsvc.platform.resources import STATIC, TEMPLATES


class PartsvcApi(Api):  # type: ignore[misc]
    """flask-smorest, with error responses documented as application/problem+json.

    Each operation lists the problems it can answer (``apidoc.ProblemResponses``) instead
    of one catch-all ``default``, so an answer with an undocumented status is caught.
    """

    ERROR_SCHEMA = apidoc.ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    _undocumented: list[tuple[Any, str, Any]]
    _documenting = False

    @property
    def spec(self) -> Any:
        """The OpenAPI document, written when first asked for (the docs page, the JSON),
        not when the app is made: half of building an app is documenting its routes, and
        most processes (a worker, a test) never serve the document."""
        spec = self._spec
        if self._undocumented and not self._documenting:
            self._documenting = True
            try:
                while self._undocumented:
                    blueprint, name, parameters = self._undocumented.pop(0)
                    blueprint.register_views_in_doc(
                        self, self._app, spec, name=name, parameters=parameters
                    )
                    spec.tag({"name": name, "description": blueprint.description})
            finally:
                self._documenting = False
        return spec

    @spec.setter
    def spec(self, value: Any) -> None:
        self._spec = value
        self._undocumented = []

    def register_blueprint(self, blp: Any, *, parameters: Any = None, **options: Any) -> None:
        """As flask-smorest's (its bookkeeping copied: keep it in step when upgrading), with
        the blueprint's views documented when the spec is read."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append((blp, name, parameters))

    def _init_spec(self, *, extra_plugins: Any = None, **options: Any) -> None:
        plugins = [*(extra_plugins or ()), apidoc.ProblemResponses()]
        super()._init_spec(extra_plugins=plugins, **options)
        self.ma_plugin.converter.add_attribute_function(apidoc.field_patterns)

    def _register_responses(self) -> None:
        saved: str = self.DEFAULT_RESPONSE_CONTENT_TYPE  # type: ignore[has-type]
        self.DEFAULT_RESPONSE_CONTENT_TYPE = problems.PROBLEM_JSON
        try:
            super()._register_responses()
        finally:
            self.DEFAULT_RESPONSE_CONTENT_TYPE = saved


def create_app(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
    database: Database | None = None,
    **flask_config: Any,
) -> Flask:
    """Build the app: settings → database → API blueprints → error handlers."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder=str(STATIC))
    app.config.update(
        SECRET_KEY=settings.secret_key or _instance_secret(),
        API_TITLE="partsvc",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/api/v1/docs/static/",
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,  # a count of thousands of serials fits
        # (CSV imports take more: partsvc.api.imports.MAX_FILE_BYTES, see raise_body_limit)
        PARTSVC_SETTINGS=settings,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),  # a working day, then log in again
        SESSION_REFRESH_EACH_REQUEST=False,  # ... twelve hours from the login, not sliding
        WTF_CSRF_TIME_LIMIT=None,  # a form's token lasts as long as the login
    )
    app.config.update(flask_config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Chinese names stay readable
    logs.configure(settings.log_level, settings.log_format)

    app.extensions["partsvc.db"] = database or Database(
        settings.database_url,
        busy_timeout_s=settings.sqlite_busy_timeout_s,
        pool_size=settings.db_pool_size,
        connect_timeout_s=settings.db_connect_timeout_s,
        statement_timeout_s=settings.db_statement_timeout_s,
    )
    app.extensions["partsvc.clock"] = clock
    app.extensions["partsvc.renders"] = Renders(
        per_process=settings.renders_per_process,
        per_user=settings.renders_per_user,
        shared_by=settings.database_url,
    )
    # With a queue, a worker delivers what a request emitted as soon as it commits.
    app.extensions["partsvc.db"].after_commit = _outbox_wake(settings)
    app.extensions["partsvc.plan_queue"] = _plan_queue(settings)
    app.extensions["partsvc.calendar"] = WorkingCalendar(timezone=settings.timezone)

    app.url_map.converters["isodate"] = IsoDateConverter
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = SegmentConverter
    api = PartsvcApi(app)
    api.register_converter(IsoDateConverter, lambda _: {"type": "string", "format": "date"})
    api.register_converter(SegmentConverter, segment_schema)
    api.spec.components.security_scheme(
        "bearerAuth",
        {"type": "http", "scheme": "bearer", "description": "`partsvc users create` prints one."},
    )
    from partsvc.api.audit import blp as audit_blp
    from partsvc.api.auth import blp as tokens_blp
    from partsvc.api.calls import blp as customers_blp
    from partsvc.api.documents import blp as documents_blp
    from partsvc.api.imports import blp as imports_blp
    from partsvc.api.inventory import blp as stock_blp
    from partsvc.api.labels import blp as labels_blp
    from partsvc.api.loans import blp as loans_blp
    from partsvc.api.purchasing import blp as purchasing_blp
    from partsvc.api.reorder import blp as reorder_blp
    from partsvc.api.repairs import blp as repairs_blp
    from partsvc.api.routing import blp as plans_blp
    from partsvc.api.webhooks import blp as webhooks_blp
    from partsvc.api.workdays import blp as calendar_blp

    api_blueprints = [
        stock_blp,
        customers_blp,
        calendar_blp,
        purchasing_blp,
        loans_blp,
        reorder_blp,
        repairs_blp,
        plans_blp,
        documents_blp,
        audit_blp,
        tokens_blp,
        imports_blp,
        labels_blp,
        webhooks_blp,
    ]
    for blueprint in api_blueprints:
        api.register_blueprint(blueprint)
    problems.register(app)
    _register_pages(app)
    app.before_request(raise_body_limit)  # before the pages' CSRF check reads a form
    operations.register(app)
    headers.install(app, behind_proxy=settings.proxy_fix)
    throttle.install(app, settings, app.extensions["partsvc.db"])
    web.register(app, api_blueprints)
    return app


def _register_pages(app: Flask) -> None:
    import swagger_ui_bundle

    @app.get("/api/v1/docs/static/<path:filename>")
    def swagger_ui_static(filename: str) -> Any:
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    @app.get("/favicon.ico")
    def favicon() -> Any:
        """Browsers ask for it on every page that names no icon (the API docs, a PDF)."""
        return send_from_directory(STATIC, "favicon.ico", max_age=86400)


def _plan_queue(settings: Settings) -> Any:
    """The planning queue when Redis is configured (no connection is made here)."""
    if not settings.redis_url:
        return None
    from partsvc.workflows.plan_jobs import PlanQueue

    return PlanQueue(
        settings.redis_url, settings.plan_queue, wait_margin_s=settings.plan_wait_margin_s
    )


def _instance_secret() -> str:
    """A secret kept in the instance folder, made on first start; never in the repository.

    Several gunicorn workers start at once: the first to link its secret into place wins
    and every process reads that one, so a session signed by one is good in all.
    """
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        draft.write_text(secrets.token_urlsafe(48))
        draft.chmod(0o600)
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)  # atomic: never a half-written or a second secret
        draft.unlink()
    return path.read_text().strip()


def _outbox_wake(settings: Settings) -> list[Callable[[], None]]:
    if not settings.redis_url:
        return []
    from partsvc.workflows.outbox_delivery import OutboxQueue

    return [OutboxQueue(settings.redis_url, settings.outbox_queue).wake]
