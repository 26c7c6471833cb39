"""Install partsvc as a user would and use it: the shipped package, not the checkout.

Builds the wheel, installs it into a new virtual environment outside the checkout, and
from another folder runs ``partsvc db upgrade``, ``partsvc demo`` and ``partsvc serve``.
Then each demo user logs in, the dispatcher plans the day, and every page reachable by
following links is opened once (a few of each kind) and one PDF of each kind downloaded.
Every answer must be 200; the run fails on any other, and on a kind of page or PDF never
reached. Standard library only: it runs with any Python 3.11.

    python tools/check_wheel.py [--keep]
"""

# ruff: noqa: S603, S310  (it runs fixed commands of its own and opens only the server it started)

from __future__ import annotations

import argparse
import html.parser
import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
USERS = ("admin", "clerk", "dispatch", "wang")
ENGINEERS = {"E-WANG": "wang", "E-LI": "lina", "E-ZHANG": "zhang", "E-CHEN": "chen"}
PER_KIND = 3  # pages opened of each kind (each part's page is the same template)
MAX_REQUESTS = 400
# Each kind of page and document that must have been reached: (name, path pattern).
KINDS = {
    "home": r"/",
    "clerk desk": r"/desk",
    "part": r"/desk/parts/[^/]+",
    "vendor order": r"/desk/orders/[^/]+",
    "imports": r"/desk/imports",
    "engineer's day": r"/my/day",
    "an engineer's day": r"/engineers/[^/]+/day",
    "engineer's call": r"/my/calls/\d+",
    "board": r"/board",
    "candidates": r"/board/plans/\d+/calls/\d+",
    "manager": r"/manager",
    "service record PDF": r"/print/calls/\d+/service-record\.pdf",
    "loaner agreement PDF": r"/print/loans/\d+/agreement\.pdf",
    "RMA authorization PDF": r"/print/rmas/[^/]+/authorization\.pdf",
    "vendor order PDF": r"/print/vendor-orders/[^/]+\.pdf",
    "day sheet PDF": r"/print/engineers/[^/]+/day\.pdf",
    "monthly report PDF": r"/print/reports/monthly\.pdf",
}


class Links(html.parser.HTMLParser):
    """The hrefs of a page, and the CSRF token of its first form."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.csrf: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.hrefs.append(values["href"] or "")
        if tag == "input" and values.get("name") == "csrf_token" and self.csrf is None:
            self.csrf = values.get("value")


def run(command: list[str], **kwargs: object) -> str:
    print("$", " ".join(command), flush=True)
    done = subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)
    return str(done.stdout)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Visitor:
    """One user's browser: a cookie jar, no JavaScript."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def open(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str, bytes]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=180) as answer:
                return answer.status, answer.headers.get_content_type(), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get_content_type(), error.read()

    def log_in(self, username: str, password: str) -> None:
        status, _, body = self.open("/login")
        links = Links()
        links.feed(body.decode())
        form = {"username": username, "password": password, "csrf_token": links.csrf or ""}
        status, _, body = self.open("/login", form)
        if status != 200 or b'action="/logout"' not in body:
            raise SystemExit(f"FAIL: {username} could not log in ({status})")
        # No Accept-Language: the deployment's default, Chinese, from the wheel's catalogue.
        if "退出登录".encode() not in body:
            raise SystemExit("FAIL: the pages are not in Chinese: is messages.mo in the wheel?")


def kind_of(path: str) -> str | None:
    for name, pattern in KINDS.items():
        if re.fullmatch(pattern, path):
            return name
    return None


def linked_nowhere(base: str, tokens: Path) -> list[tuple[str, str]]:
    """Pages that no link leads to on the demo's day (an engineer's day seen by a
    dispatcher; on a day without a route, an engineer's calls and their service records;
    an RMA that no list shows), found through the API: (who opens it, where)."""
    token = re.search(r"admin\s+admin\s+(\S+)", tokens.read_text())
    assert token is not None, "the demo wrote no admin token"

    def get(path: str) -> list[dict[str, object]]:
        request = urllib.request.Request(
            base + path, headers={"Authorization": f"Bearer {token.group(1)}"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = json.load(answer)
            items: list[dict[str, object]] = body["items"] if isinstance(body, dict) else body
            return items

    pages = [("dispatch", "/engineers/E-WANG/day")]
    for code, username in ENGINEERS.items():
        for call in get(f"/api/v1/calls?engineer={code}&open=true")[:1]:
            pages.append((username, f"/my/calls/{call['id']}"))
        for call in get(f"/api/v1/calls?engineer={code}&open=false")[:1]:
            pages.append((username, f"/print/calls/{call['id']}/service-record.pdf"))
    for rma in get("/api/v1/rmas")[:1]:
        pages.append(("dispatch", f"/print/rmas/{rma['number']}/authorization.pdf"))
    return pages


def crawl(
    visitor: Visitor,
    username: str,
    reached: dict[str, int],
    failures: list[str],
    start: str = "/",
) -> int:
    """Follow same-site links from ``start``; a few pages of each kind."""
    queue, seen, requests = [start], {start}, 0
    opened: dict[str, int] = {}
    while queue and requests < MAX_REQUESTS:
        path = queue.pop(0)
        kind = kind_of(urllib.parse.urlsplit(path).path) or path
        if opened.get(kind, 0) >= PER_KIND:
            continue
        opened[kind] = opened.get(kind, 0) + 1
        status, content_type, body = visitor.open(path)
        requests += 1
        if status != 200:
            failures.append(f"{username} GET {path}: {status}")
            continue
        reached[kind] = reached.get(kind, 0) + 1
        if content_type == "application/pdf":
            if not body.startswith(b"%PDF"):
                failures.append(f"{username} GET {path}: not a PDF")
            continue
        if content_type != "text/html":
            continue
        links = Links()
        links.feed(body.decode())
        for href in links.hrefs:
            parts = urllib.parse.urlsplit(urllib.parse.urljoin(path, href))
            if parts.netloc or parts.scheme not in ("", "http") or parts.path.startswith("/api/"):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    began = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="partsvc-wheel-"))
    server: subprocess.Popen[bytes] | None = None
    try:
        dist, venv, work = folder / "dist", folder / "venv", folder / "run"
        work.mkdir()
        run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), "."],
            cwd=ROOT)  # fmt: skip
        (wheel,) = dist.glob("partsvc-*.whl")
        run([sys.executable, "-m", "venv", str(venv)])
        run([str(venv / "bin/python"), "-m", "pip", "install", "--quiet", str(wheel)])
        partsvc = str(venv / "bin/partsvc")
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PARTSVC_", "PYTHON", "VIRTUAL_ENV"))
        }
        environment |= {
            "PARTSVC_DATABASE_URL": f"sqlite:///{work / 'partsvc.db'}",
            "PARTSVC_INSTANCE_DIR": str(work / "instance"),
            "PARTSVC_PLAN_TIME_LIMIT_S": "2",
            "PARTSVC_LOGIN_RATE": "100/minute",  # every user logs in from this one address
            "PARTSVC_LOG_FORMAT": "text",
            "PARTSVC_LOG_LEVEL": "WARNING",
        }
        run([partsvc, "db", "upgrade"], cwd=work, env=environment)
        said = run([partsvc, "demo", "--parts", "60"], cwd=work, env=environment)
        match = re.search(r"password (\S+)", said)
        if match is None:
            raise SystemExit(f"FAIL: the demo printed no password:\n{said}")
        port = free_port()
        log = (work / "serve.log").open("wb")
        server = subprocess.Popen(
            [partsvc, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            cwd=work, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(
                        f"FAIL: partsvc serve did not start:\n{(work / 'serve.log').read_text()}"
                    ) from None
                time.sleep(0.2)
        reached: dict[str, int] = {}
        failures: list[str] = []
        requests = 0
        for username in USERS:
            visitor = Visitor(base)
            visitor.log_in(username, match.group(1))
            if username == "dispatch":  # a plan, so that the board links to candidates
                _, _, body = visitor.open("/board")
                links = Links()
                links.feed(body.decode())
                status, _, _ = visitor.open("/board/plans", {"csrf_token": links.csrf or ""})
                if status != 200:
                    failures.append(f"dispatch POST /board/plans: {status}")
            requests += crawl(visitor, username, reached, failures)
        for username, path in linked_nowhere(base, work / "instance" / "demo-tokens.txt"):
            visitor = Visitor(base)
            visitor.log_in(username, match.group(1))
            requests += crawl(visitor, username, reached, failures, start=path)
        favicon = Visitor(base).open("/favicon.ico")
        if favicon[0] != 200:
            failures.append(f"GET /favicon.ico: {favicon[0]}")
        missing = [name for name in KINDS if name not in reached]
        print(f"{requests} requests as {', '.join(USERS)}; reached: " + ", ".join(
            f"{name} ×{reached[name]}" for name in KINDS if name in reached
        ))  # fmt: skip
        for failure in failures:
            print("FAIL:", failure)
        for name in missing:
            print("FAIL: never reached:", name)
        if failures or missing:
            print((work / "serve.log").read_text()[-4000:])
            return 1
        print(f"the installed wheel serves every page and PDF ({time.monotonic() - began:.0f} s)")
        return 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if args.keep:
            print("kept", folder)
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
