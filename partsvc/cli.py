"""The ``partsvc`` command: db upgrade and backup, users, demo, sweep, bench, serve, worker."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, BinaryIO
from zoneinfo import ZoneInfo

import click

from partsvc.core.errors import InvalidRows, PartsvcError, UnknownKey
from partsvc.platform.config import INSTANCE_DIR, Settings
from partsvc.platform.db import Database, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _database() -> Database:
    """The database of the settings, or the one a caller (a test) put in click's context."""
    context = click.get_current_context(silent=True)
    given = context.find_object(dict) if context else None
    if given and "database" in given:
        database: Database = given["database"]
        return database
    settings = Settings.from_env()
    return Database(settings.database_url, busy_timeout_s=settings.sqlite_busy_timeout_s)


def _now() -> datetime:
    context = click.get_current_context(silent=True)
    given = context.find_object(dict) if context else None
    clock: Callable[[], datetime] = (given or {}).get("clock", utcnow)
    return clock()


def _audited(session: Session) -> Session:
    """Audit this command's writes: no user acts, the client is the command line."""
    from partsvc.audit import trail as audit

    audit.begin(session, actor=None, client="cli", now=_now())
    return session


@contextmanager
def _command_work(*, write: bool = True) -> Iterator[Session]:
    """One unit of work for a command, its writes audited; a refusal is printed as
    ``error: …`` (an import's bad rows first, one line each) and the command exits 1 with
    nothing written."""
    try:
        with _database().unit_of_work(write=write) as session:
            yield _audited(session) if write else session
    except PartsvcError as error:
        if isinstance(error, InvalidRows):
            for row, columns in (error.errors or {}).items():
                for column, messages in columns.items():
                    for message in messages:
                        click.echo(f"row {row}, {column}: {message}", err=True)
        click.echo(f"error: {error.detail}", err=True)
        sys.exit(1)


def _prepare_sqlite_folder(url: str) -> None:
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)


@contextmanager
def _logged_run(settings: Settings) -> Iterator[None]:
    """Log like the web app, each line carrying this run's id in place of a request id."""
    from partsvc.platform import logs

    logs.configure(settings.log_level, settings.log_format)
    token = logs.request_id.set("run-" + logs.new_request_id())
    try:
        yield
    finally:
        logs.request_id.reset(token)


class _Commands(click.Group):
    """The commands here, and the groups other distributions install under the
    ``partsvc.commands`` entry point (the benchmark's ``bench``), loaded when asked for:
    the product never imports them by name."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_installed()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is None and cmd_name in _installed():
            command: click.Command = _installed()[cmd_name].load()
            return command
        return found


def _installed() -> dict[str, Any]:
    from importlib.metadata import entry_points

    return {found.name: found for found in entry_points(group="partsvc.commands")}


@click.group(cls=_Commands)
def main() -> None:
    """partsvc: spare parts, loaners, repairs and dispatch for field service."""


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the migrations up to REVISION."""
    from partsvc.platform import migrate

    url = Settings.from_env().database_url
    _prepare_sqlite_folder(url)
    migrate.upgrade(url, revision)
    click.echo(f"database at {revision}")


@db.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, writable=True))
def db_backup(target: str) -> None:
    """Copy the SQLite database to TARGET while it serves (SQLite's online backup).

    PostgreSQL is backed up with pg_dump (see docs/OPERATIONS.md).
    """
    from pathlib import Path

    from partsvc.platform.backup import backup_sqlite

    try:
        size = backup_sqlite(Settings.from_env().database_url, Path(target))
    except PartsvcError as error:
        click.echo(f"error: {error.detail}", err=True)
        sys.exit(1)
    click.echo(f"backed up to {target} ({size} bytes, integrity ok)")


@main.group()
def users() -> None:
    """Users and their API tokens."""


@users.command("create")
@click.argument("name")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "clerk", "dispatcher", "engineer"]),
    help="What the user may do.",
)
def users_create(name: str, role: str) -> None:
    """Create a user and print a new API token, alone on the last line."""
    from partsvc.auth.identity import create_user, issue_token

    with _command_work() as session:
        user = create_user(session, username=name, role=role)
        token = issue_token(session, user, name="cli")
    click.echo(f"created {role} {name}; API token (shown once):")
    click.echo(token)


@users.command("token")
@click.argument("name")
def users_token(name: str) -> None:
    """Issue a new API token for an existing user (an engineer, say); printed alone last."""
    from partsvc.auth.identity import issue_token, user_named

    with _command_work() as session:
        token = issue_token(session, user_named(session, name), name="cli")
    click.echo(f"new API token for {name} (shown once):")
    click.echo(token)


@users.command("password")
@click.argument("name")
@click.password_option(help="The new password (asked twice when not given).")
def users_password(name: str, password: str) -> None:
    """Set the password a user logs in to the pages with."""
    from partsvc.audit import trail as audit
    from partsvc.auth.identity import set_password, user_named

    with _command_work() as session:
        set_password(user_named(session, name), password)
        audit.record(session, "user.password_set", kind="user", key=name)
    click.echo(f"password set for {name}")


@users.command("tokens")
@click.argument("name")
def users_tokens(name: str) -> None:
    """List a user's API tokens: id, name, created, expires, revoked (never the token)."""
    from partsvc.auth.identity import list_tokens, user_named

    with _command_work(write=False) as session:
        user = user_named(session, name)
        rows = list_tokens(session, user_id=user.id, limit=10_000)
        lines = [
            f"{row.id:>6}  {row.name or '-':<20} created {_when(row.created_at)}"
            f"  expires {_when(row.expires_at)}  revoked {_when(row.revoked_at)}"
            for row in rows
        ]
    click.echo("\n".join(lines) if lines else f"{name} has no API tokens")


@users.command("revoke")
@click.argument("token_id", type=click.IntRange(1, 2**31 - 1))
def users_revoke(token_id: int) -> None:
    """Revoke an API token for good (its id from `partsvc users tokens NAME`)."""
    from partsvc.auth.identity import revoke_token

    with _command_work() as session:
        revoke_token(session, token_id, by=None, now=_now())
    click.echo(f"API token {token_id} revoked")


@users.command("unlock")
@click.argument("name")
def users_unlock(name: str) -> None:
    """Let a username locked after failed logins log in again now."""
    from partsvc.auth.lockout import unlock

    with _command_work() as session:
        unlock(session, name)
    click.echo(f"{name} may log in again")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "-"


@main.command()
@click.option("--parts", default=300, show_default=True, help="How many parts to create.")
def demo(parts: int) -> None:
    """Load the demo data set into an empty database and print the demo users' password
    and tokens (a new password each time the demo is loaded: none is kept in the code)."""
    import secrets

    from partsvc.demo import load_demo

    database = _database()
    password = "demo-" + secrets.token_urlsafe(8)
    try:
        with database.unit_of_work() as session:
            tokens = load_demo(session, now=_now(), password=password, part_count=parts)
    except PartsvcError as error:
        click.echo(f"error: {error.detail}", err=True)
        sys.exit(1)
    if tokens is None:
        click.echo(
            f"demo data already loaded; the tokens are in {INSTANCE_DIR / 'demo-tokens.txt'}"
        )
        return
    lines = [f"demo users log in to the pages with the password {password}", ""]
    lines += ["demo users and their API tokens:"]
    lines += [f"  {user:<10} {role:<10} {token}" for user, (role, token) in tokens.items()]
    saved = INSTANCE_DIR / "demo-tokens.txt"
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text("\n".join(lines) + "\n")
    saved.chmod(0o600)
    click.echo("\n".join(lines))
    click.echo(f"(kept in {saved})")


@main.group("import")
def import_group() -> None:
    """CSV imports of a first day: parts, opening stock, then the customer file."""


@import_group.command("parts")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
def import_parts(file: BinaryIO, dry_run: bool) -> None:
    """Create the parts of a CSV FILE (sku, name, name_zh, ...), all or none."""
    from partsvc.workflows.imports.importer import import_parts as run

    _import(lambda session: run(session, file.read(), dry_run=dry_run, now=_now()))


@import_group.command("stock")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.option("--by", "username", help="The user booking it, kept on each move.")
def import_stock(file: BinaryIO, dry_run: bool, username: str | None) -> None:
    """Book the opening stock of a CSV FILE (sku, location, qty, serials), all or none."""
    from sqlalchemy import select

    from partsvc.auth.identity import Caller
    from partsvc.auth.models import User
    from partsvc.workflows.imports.importer import import_stock as run

    def book(session: Session) -> object:
        by = None
        if username is not None:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise UnknownKey(f"No user named {username!r}.")
            by = Caller.of(user)
        now = _now()
        zone = ZoneInfo(Settings.from_env().timezone)
        return run(
            session,
            file.read(),
            dry_run=dry_run,
            now=now,
            today=now.astimezone(zone).date(),
            by=by,
            source=os.path.basename(file.name) if file.name != "<stdin>" else None,
            zone=zone,
        )

    _import(book)


@import_group.command("customer-file")
@click.argument("kind", type=click.Choice(["engineers", "customers", "sites", "equipment"]))
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
def import_customer_file(kind: str, file: BinaryIO, dry_run: bool) -> None:
    """Create the engineers, customers (with their contract, which may have started in the
    past), sites or installed equipment of a CSV FILE, all or none. Import them in that
    order; the columns are in docs/API.md."""
    from partsvc.workflows.imports.customer_file import import_file

    zone = ZoneInfo(Settings.from_env().timezone)
    _import(
        lambda session: import_file(
            session, kind, file.read(), dry_run=dry_run, today=_now().astimezone(zone).date()
        )
    )


def _import(action: Callable[[Session], object]) -> None:
    """Run an import in one unit of work; print what it did, or every bad row and exit 1."""
    from dataclasses import asdict

    with _command_work() as session:
        result = action(session)
    done = asdict(result)  # type: ignore[call-overload]
    verb = "would import" if done.pop("dry_run") else "imported"
    per_location = done.pop("locations", {})
    click.echo(f"{verb}: " + ", ".join(f"{key} {value}" for key, value in done.items()))
    for code, units in per_location.items():
        click.echo(f"  {code}: {units} units")


@main.command()
def sweep() -> None:
    """Preventive visits due, deadline alerts, loan reminders (see partsvc/sweep.py).

    Meant for cron every few minutes; running it twice does no harm.
    """
    from partsvc.api import idempotency
    from partsvc.core.worktime import WorkingCalendar
    from partsvc.workdays.calendar_days import working_calendar
    from partsvc.workflows.outbox_delivery import deliver
    from partsvc.workflows.sweep import sweep as run_sweep

    settings = Settings.from_env()
    with _logged_run(settings):
        database = _database()
        with database.unit_of_work() as session:
            calendar = working_calendar(session, WorkingCalendar(timezone=settings.timezone))
            report = run_sweep(
                session,
                now=_now(),
                calendar=calendar,
                warn_before=timedelta(minutes=settings.sla_warning_minutes),
            )
        with database.unit_of_work() as session:
            retention = timedelta(hours=settings.idempotency_retention_hours)
            forgotten = idempotency.forget_before(session, _now() - retention)
        # Outside the sweep's transaction: the outbox sends with short transactions of its own.
        delivery = deliver(database, settings, clock=_now)
        report.delivered = delivery.sent
        logging.getLogger("partsvc.sweep").info(report.summary())
        logging.getLogger("partsvc.outbox").info(delivery.summary())
        if forgotten:
            logging.getLogger("partsvc.sweep").info(
                "sweep: %d idempotency key(s) forgotten", forgotten
            )
    click.echo(report.summary())
    if forgotten:
        click.echo(f"sweep: {forgotten} idempotency key(s) older than {retention} forgotten")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--workers", default=2, show_default=True)
@click.option(
    "--timeout",
    default=180,
    show_default=True,
    help="Seconds a request may take: a plan searches up to 120 s, and waits for it longer.",
)
def serve(host: str, port: int, workers: int, timeout: int) -> None:
    """Serve the app with gunicorn; its workers share one set of Prometheus metrics."""
    _prepare_metrics_folder()
    args = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}"]
    args += ["--workers", str(workers), "--timeout", str(timeout)]
    args += ["--config", "python:partsvc.gunicorn_conf", "partsvc:create_app()"]
    # Our own interpreter and fixed arguments, no shell: this process becomes gunicorn.
    os.execv(args[0], args)  # noqa: S606  # nosec B606


@main.command()
@click.option("--name", default=None, help="The worker's name  [default: host.pid]")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty.")
def worker(name: str | None, burst: bool) -> None:
    """Make day plans, and send the outbox, from the queues (needs PARTSVC_REDIS_URL).

    Run as many as days should be planned at once, on any machine that reaches Redis and
    the database, with the same PARTSVC_* settings as the web processes.
    """
    import socket

    from partsvc.workflows.plan_jobs import PlanQueue

    settings = Settings.from_env()
    if not settings.redis_url:
        click.echo("error: set PARTSVC_REDIS_URL to the Redis the web processes use", err=True)
        sys.exit(1)
    queue = PlanQueue(
        settings.redis_url, settings.plan_queue, wait_margin_s=settings.plan_wait_margin_s
    )
    name = name or f"{socket.gethostname()}.{os.getpid()}"
    click.echo(f"worker {name} on queues {settings.plan_queue}, {settings.outbox_queue}")
    from rq import Queue
    from rq.serializers import JSONSerializer

    outbox = Queue(settings.outbox_queue, connection=queue.redis, serializer=JSONSerializer)
    queue.worker(name, also=[outbox]).work(burst=burst, logging_level=settings.log_level)


def _prepare_metrics_folder() -> None:
    """PROMETHEUS_MULTIPROC_DIR (a new one unless given) for the workers' samples, without
    the samples of an earlier run (only its ``*.db`` files are removed). A folder made
    here is removed when gunicorn exits."""
    import tempfile
    from pathlib import Path

    from partsvc import gunicorn_conf

    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for samples in Path(folder).glob("*.db"):
            samples.unlink()
    else:
        made = tempfile.mkdtemp(prefix="partsvc-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = made
        os.environ[gunicorn_conf.MADE_METRICS_FOLDER] = made  # gunicorn removes it on exit
