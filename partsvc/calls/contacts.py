"""Who at the customer is told about a call, and the link they follow it by.

The person who reported the fault from the unit's label (their name and phone on the
call) comes first; else the site's contact."""

from __future__ import annotations

from dataclasses import dataclass

from partsvc.calls.models import Call, Site
from partsvc.calls.reports import tracking_url


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
    """Whom at the customer to tell about ``call``: whoever reported it from the unit's
    label (by phone, in the site contact's language), else the site's contact."""
    site = site_contact(call.site)
    if call.contact_phone:
        language = call.site.contact_language
        email = site.email if site is not None and site.name == call.contact_name else None
        return Contact(call.contact_name, call.contact_phone, email, language)
    return site


def tracking_link(call: Call, public_url: str) -> str:
    """The page the customer follows (and rates) the call on; a call opened by staff
    gets its tracking id the first time a message links to it."""
    return tracking_url(call, public_url)
