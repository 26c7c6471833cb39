"""Every message template renders in Chinese and in English with the values its event
gives, with no English left in the Chinese one's subject."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from partsvc.calls.contacts import Contact
from partsvc.platform.config import Settings
from partsvc.platform.resources import TEMPLATES
from partsvc.workflows.notifications import Recipient, render

AT = datetime(2026, 12, 7, 2, 40, tzinfo=UTC)  # 10:40 in Shanghai
VALUES = {
    "call": 17,
    "site": "S-GOLD",
    "customer": "C-GOLD",
    "priority": "P1",
    "site_address": "上海浦东张江路 1 号",
    "equipment": "EQ-0001",
    "engineer_name": "王工",
    "arrival": AT,
    "eta": date(2026, 12, 9).isoformat(),
    "link": "https://service.example.cn/t/abc",
    "sku": "PH-PX200",
    "vendor_order": "PO-000003",
    "old_eta": date(2026, 12, 8).isoformat(),
    "serial": "LN-PX350-01",
    "loan": 3,
    "due_at": AT.isoformat(),
    "days_overdue": 2,
    "rma": "RMA-000001",
}
TEMPLATE_NAMES = sorted(path.stem for path in Path(TEMPLATES, "messages").glob("*.txt"))


@pytest.mark.parametrize("template", TEMPLATE_NAMES)
def test_each_message_reads_in_chinese_and_english(template):
    zone = ZoneInfo("Asia/Shanghai")
    values = dict(VALUES)
    texts = {}
    for language in ("zh_CN", "en"):
        contact = Contact("刘经理", "13800138001", None, language)
        message = render(
            "x", Recipient("customer", contact, template, values), settings=Settings(), zone=zone
        )
        assert message.subject and message.body and message.language == language
        texts[language] = message
    chinese, english = texts["zh_CN"], texts["en"]
    assert chinese.subject != english.subject and chinese.body != english.body
    assert any("\u4e00" <= char <= "\u9fff" for char in chinese.subject)
    if template == "call_en_route":
        assert "预计 12月7日 10:40 左右到达" in chinese.body
        assert "about 7 Dec 10:40" in english.body
    if template == "call_part_eta":
        assert "预计 12月9日 到货" in chinese.body and "9 Dec 2026" in english.body
    if template == "call_resolved":
        assert "https://service.example.cn/t/abc" in chinese.body  # the rating link


def test_a_contact_without_a_language_reads_the_deployments_default():
    contact = Contact(None, "13800138001", None, None)
    recipient = Recipient("customer", contact, "call_arrived", VALUES)
    zone = ZoneInfo("Asia/Shanghai")
    assert render("x", recipient, settings=Settings(), zone=zone).language == "zh_CN"
    english = Settings(default_locale="en")
    assert render("x", recipient, settings=english, zone=zone).subject.startswith("Engineer")
