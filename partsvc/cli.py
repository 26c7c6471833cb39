"""The ``partsvc`` command: db upgrade, users create, demo, sweep, bench, serve."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import click

from partsvc.config import INSTANCE_DIR, Settings
from partsvc.db import Database, utcnow
from partsvc.errors import PartsvcError


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


def _prepare_sqlite_folder(url: str) -> None:
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)


@contextmanager
def _logged_run(settings: Settings) -> Iterator[None]:
    """Log like the web app, each line carrying this run's id in place of a request id."""
    from partsvc import logs

    logs.configure(settings.log_level, settings.log_format)
    token = logs.request_id.set("run-" + logs.new_request_id())
    try:
        yield
    finally:
        logs.request_id.reset(token)


@click.group()
def main() -> None:
    """partsvc: spare parts, loaners, repairs and dispatch for field service."""


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the migrations up to REVISION."""
    from partsvc import migrate

    url = Settings.from_env().database_url
    _prepare_sqlite_folder(url)
    migrate.upgrade(url, revision)
    click.echo(f"database at {revision}")


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
    from partsvc.auth.services import create_user, issue_token

    database = _database()
    try:
        with database.unit_of_work() as session:
            user = create_user(session, username=name, role=role)
            token = issue_token(session, user, name="cli")
    except PartsvcError as error:
        click.echo(f"error: {error.detail}", err=True)
        sys.exit(1)
    click.echo(f"created {role} {name}; API token (shown once):")
    click.echo(token)


@users.command("token")
@click.argument("name")
def users_token(name: str) -> None:
    """Issue a new API token for an existing user (an engineer, say); printed alone last."""
    from sqlalchemy import select

    from partsvc.auth.models import User
    from partsvc.auth.services import issue_token

    with _database().unit_of_work() as session:
        user = session.scalar(select(User).where(User.username == name))
        if user is None:
            click.echo(f"error: no user named {name!r}", err=True)
            sys.exit(1)
        token = issue_token(session, user, name="cli")
    click.echo(f"new API token for {name} (shown once):")
    click.echo(token)


@users.command("password")
@click.argument("name")
@click.password_option(help="The new password (asked twice when not given).")
def users_password(name: str, password: str) -> None:
    """Set the password a user logs in to the pages with."""
    from sqlalchemy import select

    from partsvc.auth.models import User
    from partsvc.auth.services import set_password

    try:
        with _database().unit_of_work() as session:
            user = session.scalar(select(User).where(User.username == name))
            if user is None:
                click.echo(f"error: no user named {name!r}", err=True)
                sys.exit(1)
            set_password(user, password)
    except PartsvcError as error:
        click.echo(f"error: {error.detail}", err=True)
        sys.exit(1)
    click.echo(f"password set for {name}")


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


@main.command()
def sweep() -> None:
    """Preventive visits due, deadline alerts, loan reminders (see partsvc/sweep.py).

    Meant for cron every few minutes; running it twice does no harm.
    """
    from partsvc.notify import notifier_named
    from partsvc.sweep import sweep as run_sweep
    from partsvc.workdays.services import working_calendar
    from partsvc.worktime import WorkingCalendar

    settings = Settings.from_env()
    with _logged_run(settings):
        with _database().unit_of_work() as session:
            calendar = working_calendar(session, WorkingCalendar(timezone=settings.timezone))
            report = run_sweep(
                session,
                now=_now(),
                calendar=calendar,
                warn_before=timedelta(minutes=settings.sla_warning_minutes),
                notifier=notifier_named(settings.notifier),
            )
        logging.getLogger("partsvc.sweep").info(report.summary())
    click.echo(report.summary())


@main.group()
def bench() -> None:
    """Benchmarks of the planner's solver core."""


@bench.command("vrptw")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--time-limit", default=10.0, show_default=True, help="Seconds of search.")
@click.option("--seed", default=0, show_default=True)
@click.option(
    "--search",
    "settings",
    default="{}",
    help='Search settings to tune, as JSON, e.g. {"cooling": "EXPONENTIAL"}.',
)
def bench_vrptw(path: str, time_limit: float, seed: int, settings: str) -> None:
    """Solve one Solomon-format file and print the result as one JSON object."""
    import json
    from dataclasses import fields
    from pathlib import Path

    from partsvc.routing.model import Search
    from partsvc.routing.solomon import read_instance, solve_vrptw

    try:
        tuned = json.loads(settings)
    except json.JSONDecodeError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint="--search") from None
    known = {f.name for f in fields(Search)} - {"time_limit_s", "seed", "extra", "operators"}
    if not isinstance(tuned, dict) or set(tuned) - known:
        unknown = sorted(set(tuned) - known) if isinstance(tuned, dict) else tuned
        raise click.BadParameter(
            f"an object of {', '.join(sorted(known))}; not {unknown}", param_hint="--search"
        )
    if isinstance(tuned.get("temperatures"), list):
        tuned["temperatures"] = tuple(tuned["temperatures"])
    try:
        search = Search(time_limit_s=time_limit, seed=seed, **tuned)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--search") from None
    result = solve_vrptw(read_instance(Path(path)), search)
    click.echo(
        json.dumps(
            {
                "instance": result.instance,
                "vehicles": result.vehicles,
                "distance": result.distance,
                "feasible": result.feasible,
                "seconds": round(result.seconds, 3),
                "routes": result.routes,
                "problems": result.problems,
            }
        )
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--workers", default=2, show_default=True)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the app with gunicorn; its workers share one set of Prometheus metrics."""
    _prepare_metrics_folder()
    args = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}"]
    args += ["--workers", str(workers), "--config", "python:partsvc.gunicorn_conf"]
    args += ["partsvc:create_app()"]
    os.execv(args[0], args)  # noqa: S606 - replaces this process with gunicorn


def _prepare_metrics_folder() -> None:
    """PROMETHEUS_MULTIPROC_DIR (a new one unless given) for the workers' samples, without
    the samples of an earlier run (only its ``*.db`` files are removed)."""
    import tempfile
    from pathlib import Path

    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for samples in Path(folder).glob("*.db"):
            samples.unlink()
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="partsvc-metrics-")
