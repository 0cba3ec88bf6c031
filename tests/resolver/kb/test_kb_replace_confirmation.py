"""A KBART file that would remove or change titles of an existing package asks first, saying
what changes; the file waits aside for the confirmation (no page can post a file again) and
is imported, then deleted, only when the confirmation is sent. A new package, a file that
only adds titles and a trial run ask nothing.
"""

from __future__ import annotations

import html
import io
from typing import Any

import pytest
from sqlalchemy import select

from resolver.accounts.models import AuditEntry
from resolver.kb.models import KbTitle, Package
from tests.support.confirm import confirmation_form, kbart

pytestmark = pytest.mark.usefixtures("cheap_hashes")

OLD = kbart(("Hydrology Journal", "0028-0836"), ("Tạp chí Thủy văn", "0036-8075"))
NEW = kbart(("Hydrology Journal", "0028-0836"), ("Coastal Science", "0140-6736"))
MORE = kbart(("Hydrology Journal", "0028-0836"), ("Tạp chí Thủy văn", "0036-8075"),
             ("Coastal Science", "0140-6736"))


def upload(client: Any, data: bytes, lang: str = "en", **form: str) -> Any:
    return client.post(f"/admin/kb/upload?lang={lang}", {
        "code": "sd", "kind": "subscription", **form,
        "file": (io.BytesIO(data), "sd.tsv")}, content_type="multipart/form-data")


def titles(sessions: Any) -> list[str]:
    with sessions() as s:
        return sorted(s.scalars(select(KbTitle.title).join(Package)
                                .where(Package.code == "sd")).all())


def kept_files(admin_app: Any) -> list[str]:
    folder = admin_app.config["LIENHOP"].home / "staged_uploads"
    return sorted(p.name for p in folder.glob("*")) if folder.exists() else []


def imports(sessions: Any) -> int:
    with sessions() as s:
        return len(s.scalars(select(AuditEntry).where(AuditEntry.action == "kb.import")).all())


def test_a_new_package_and_a_file_that_only_adds_titles_ask_nothing(boss, sessions):
    assert upload(boss, OLD).status_code == 200
    assert titles(sessions) == ["Hydrology Journal", "Tạp chí Thủy văn"]
    page = upload(boss, MORE).get_data(as_text=True)
    assert 'id="confirm-form"' not in page
    assert titles(sessions) == ["Coastal Science", "Hydrology Journal", "Tạp chí Thủy văn"]


def test_a_trial_run_asks_nothing_and_changes_nothing(boss, sessions):
    upload(boss, OLD)
    page = upload(boss, NEW, dry_run="on").get_data(as_text=True)
    assert 'id="confirm-form"' not in page and 'id="n-removed">1<' in page
    assert titles(sessions) == ["Hydrology Journal", "Tạp chí Thủy văn"]


def test_a_replacement_asks_in_vietnamese_then_imports_the_kept_file_once(
        admin_app, boss, sessions):
    upload(boss, OLD)
    asked = upload(boss, NEW, lang="vi")
    assert asked.status_code == 200
    page = html.unescape(asked.get_data(as_text=True))
    assert "Thay thế các nhan đề của gói sd?" in page
    assert "Các nhan đề bị xóa: Tạp chí Thủy văn" in page
    assert "thêm 1 nhan đề, thay đổi 0 và xóa 1" in page
    assert titles(sessions) == ["Hydrology Journal", "Tạp chí Thủy văn"]  # not yet
    assert imports(sessions) == 1
    assert len(kept_files(admin_app)) == 1
    action, fields = confirmation_form(page)
    assert action == "/admin/kb/upload" and fields["confirm"] == "yes"
    assert fields["code"] == "sd" and fields["source"] == "sd.tsv"
    done = boss.http.post(action, data=fields)
    assert done.status_code == 200
    assert 'id="n-removed">1<' in done.get_data(as_text=True)
    assert titles(sessions) == ["Coastal Science", "Hydrology Journal"]
    assert imports(sessions) == 2
    assert kept_files(admin_app) == []  # imported, then deleted
    again = boss.http.post(action + "?lang=en", data=fields)  # a replayed confirmation
    assert again.status_code == 422
    assert "is gone" in again.get_data(as_text=True)
    assert imports(sessions) == 2


def test_a_confirmation_cannot_name_a_file_outside_its_folder(boss, sessions):
    upload(boss, OLD)
    for token in ("../../../etc/passwd", "x" * 31, "", "a/" + "b" * 30):
        res = boss.post("/admin/kb/upload?lang=en", {"code": "sd", "confirm": "yes",
                                                     "staged": token})
        assert res.status_code == 422, token
    assert titles(sessions) == ["Hydrology Journal", "Tạp chí Thủy văn"]


def test_a_file_sent_with_its_confirmation_is_imported_at_once(boss, sessions):
    upload(boss, OLD)
    res = upload(boss, NEW, confirm="yes")
    assert res.status_code == 200 and 'id="confirm-form"' not in res.get_data(as_text=True)
    assert titles(sessions) == ["Coastal Science", "Hydrology Journal"]
