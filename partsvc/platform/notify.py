"""The channels a message reaches people by, and the one way the service POSTs outward.

``PARTSVC_NOTIFIER`` names the channels (comma-separated): ``log`` writes each message to
the log; ``smtp`` mails it through ``PARTSVC_SMTP_URL``; ``webhook`` POSTs it as signed
JSON to ``PARTSVC_NOTIFY_WEBHOOK_URL`` (an SMS gateway, a WeCom, DingTalk or WeChat
template-message bridge). A channel raises ``DeliveryFailed`` to have the message tried
again later. Nothing here runs inside a request: the outbox delivery calls it.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import smtplib
import socket
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Protocol
from urllib.parse import unquote, urlsplit

from partsvc.platform.config import Settings
from partsvc.platform.signing import SIGNATURE_HEADER, signature

log = logging.getLogger("partsvc.notify")

MAX_ANSWER_BYTES = 65536


class DeliveryFailed(Exception):
    """This attempt failed; ``final`` when trying again cannot help (a refused address)."""

    def __init__(self, reason: str, *, status: int | None = None, final: bool = False) -> None:
        super().__init__(reason)
        self.status = status
        self.final = final


@dataclass(frozen=True)
class Message:
    """One rendered message for one person."""

    event_type: str
    audience: str
    name: str | None
    phone: str | None
    email: str | None
    language: str
    subject: str
    body: str


class Channel(Protocol):
    name: str

    def reaches(self, message: Message) -> bool:
        """Whether this channel has an address for the message's recipient."""

    def send(self, message: Message) -> None:
        """Deliver it, or raise ``DeliveryFailed``."""


class LogChannel:
    """Writes each message to the log, for whoever watches it (and for the demo)."""

    name = "log"

    def reaches(self, message: Message) -> bool:
        return True

    def send(self, message: Message) -> None:
        who = message.name or message.audience
        log.info("message to %s (%s): %s", who, message.event_type, message.body)


class SmtpChannel:
    """Real SMTP: ``smtps://`` (TLS from the start), ``smtp+starttls://`` (STARTTLS, or
    refused), ``smtp://`` (plain, for a relay on the same host); user and password in the
    URL when the server asks for them."""

    name = "smtp"

    def __init__(self, url: str, sender: str, timeout_s: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps", "smtp+starttls") or not parts.hostname:
            raise ValueError("PARTSVC_SMTP_URL must be smtp://, smtp+starttls:// or smtps://HOST")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or {"smtps": 465, "smtp+starttls": 587}.get(parts.scheme, 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.timeout_s = timeout_s

    def reaches(self, message: Message) -> bool:
        return bool(message.email)

    def send(self, message: Message) -> None:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = formataddr((message.name or "", message.email or ""))
        mail["Subject"] = message.subject
        mail["Message-ID"] = make_msgid(domain="partsvc")
        mail["Content-Language"] = message.language.replace("_", "-")
        mail.set_content(message.body)
        try:
            with self._connect() as server:
                if self.user:
                    server.login(self.user, self.password or "")
                server.send_message(mail)
        except (OSError, smtplib.SMTPException) as error:
            permanent = isinstance(error, smtplib.SMTPRecipientsRefused)
            raise DeliveryFailed(f"SMTP: {error}"[:500], final=permanent) from error

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.scheme == "smtps":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s, context=context)
        server = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        if self.scheme == "smtp+starttls":
            server.starttls(context=context)  # raises if the server does not offer it
        return server


class WebhookChannel:
    """Each message as a signed JSON POST to one bridge, which knows how to reach a phone."""

    name = "webhook"

    def __init__(self, url: str, secret: str, timeout_s: float) -> None:
        check_url(url)
        self.url = url
        self.secret = secret
        self.timeout_s = timeout_s

    def reaches(self, message: Message) -> bool:
        return bool(message.phone or message.email)

    def send(self, message: Message) -> None:
        body = json.dumps(
            {
                "event": message.event_type,
                "audience": message.audience,
                "to": {"name": message.name, "phone": message.phone, "email": message.email},
                "language": message.language,
                "subject": message.subject,
                "text": message.body,
            },
            ensure_ascii=False,
        ).encode()
        post_signed(
            self.url, self.secret, body, timeout_s=self.timeout_s, allow_private=True
        ).raise_unless_ok()


def channels_from(settings: Settings) -> list[Channel]:
    """The channels ``PARTSVC_NOTIFIER`` names, built from their settings."""
    built: list[Channel] = []
    for name in (part.strip() for part in settings.notifier.split(",")):
        if name == "log":
            built.append(LogChannel())
        elif name == "smtp":
            if not settings.smtp_url:
                raise ValueError("PARTSVC_NOTIFIER names smtp: set PARTSVC_SMTP_URL")
            built.append(
                SmtpChannel(settings.smtp_url, settings.smtp_from, settings.outbound_timeout_s)
            )
        elif name == "webhook":
            if not (settings.notify_webhook_url and settings.notify_webhook_secret):
                raise ValueError(
                    "PARTSVC_NOTIFIER names webhook: set PARTSVC_NOTIFY_WEBHOOK_URL and "
                    "PARTSVC_NOTIFY_WEBHOOK_SECRET"
                )
            built.append(
                WebhookChannel(
                    settings.notify_webhook_url,
                    settings.notify_webhook_secret,
                    settings.outbound_timeout_s,
                )
            )
        elif name:
            raise ValueError(f"unknown notifier {name!r}: log, smtp or webhook")
    return built


@dataclass(frozen=True)
class Answer:
    status: int
    duration_ms: int

    def raise_unless_ok(self) -> None:
        if not 200 <= self.status < 300:
            raise DeliveryFailed(f"the receiver answered {self.status}", status=self.status)


def check_url(url: str) -> None:
    """Refuse anything but an http(s) URL with a host (no file:, no gopher:, no userinfo)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("Only http:// and https:// URLs with a host are accepted.")
    if parts.username or parts.password:
        raise ValueError("A URL may not carry a user name or password; use the secret.")


def is_private(host: str, port: int) -> bool:
    """Whether ``host`` is, or resolves to, an address inside the network (loopback,
    private ranges, link-local such as cloud metadata, reserved, multicast)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return False  # unresolvable: the connection itself will fail and be retried
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            return True
    return False


def post_signed(
    url: str,
    secret: str,
    body: bytes,
    *,
    timeout_s: float,
    allow_private: bool,
    headers: dict[str, str] | None = None,
) -> Answer:
    """POST ``body`` signed with ``secret``; the receiver's status. Redirects are not
    followed (a 3xx is an answer like any other); connect and read wait ``timeout_s``."""
    check_url(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if not allow_private and is_private(host, port):
        raise DeliveryFailed(f"{host} is an address inside the network: refused", final=True)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(host, port, timeout=timeout_s)
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout_s)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    sent = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "partsvc-webhooks/1",
        SIGNATURE_HEADER: signature(secret, int(time.time()), body),
        **(headers or {}),
    }
    started = time.monotonic()
    try:
        connection.request("POST", path, body=body, headers=sent)
        response = connection.getresponse()
        response.read(MAX_ANSWER_BYTES)
        status = response.status
    except (OSError, http.client.HTTPException) as error:
        raise DeliveryFailed(f"{type(error).__name__}: {error}"[:500]) from error
    finally:
        connection.close()
    return Answer(status, int((time.monotonic() - started) * 1000))
