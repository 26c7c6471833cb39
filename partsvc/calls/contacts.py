"""Who at the customer is told about a call, and the link they follow it by.

One function each, so the customer's own report page can later name the person who
reported the fault (their name and phone on the call) without touching the messages."""

from __future__ import annotations

from dataclasses import dataclass

from partsvc.calls.models import Call, Site


@dataclass(frozen=True)
class Contact:
    name: str | None
    phone: str | None
    email: str | None
    language: str | None
    """``zh_CN`` or ``en``; None: the deployment's default language."""

    @property
    def reachable(self) -> bool:
        return bool(self.phone or self.email)


def site_contact(site: Site) -> Contact | None:
    """The site's contact, when it has a phone or an e-mail address."""
    contact = Contact(
        site.contact_name, site.contact_phone, site.contact_email, site.contact_language
    )
    return contact if contact.reachable else None


def customer_contact(call: Call) -> Contact | None:
    """Whom at the customer to tell about ``call``: today the site's contact."""
    return site_contact(call.site)


def tracking_link(call: Call) -> str | None:
    """The page the customer follows (and rates) the call on; None until there is one."""
    return None
