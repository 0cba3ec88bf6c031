"""Every list of institutions people read is in Vietnamese alphabetical order of the names it
shows (index/collation.py): "Đại học …" between "Dược …" and "Eakar …", not after "Trường …"
and "Viện …"; on English pages, in the order of the English names shown."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from index.collation import sort_key
from resolver import db
from resolver.registry.models import Institution, Repository
from tests.support.people_order import ENGLISH, NAMES, add_named_institutions, order_in

pytestmark = pytest.mark.usefixtures("cheap_hashes")

ARTICLE = "/resolve?url_ver=Z39.88-2004&rft.atitle=Ao%20nu%C3%B4i&rft.jtitle=T%E1%BA%A1p%20ch%C3%AD"


def section(page: str, start: str, end: str) -> str:
    return page[page.index(start):page.index(end, page.index(start))]


def by_name(items: list[str], _name: object = None) -> list[str]:
    return sorted(items, key=sort_key)


def test_the_order_is_vietnamese_for_every_letter():
    from resolver.web.ordering import by_name

    shuffled = sorted(NAMES, key=lambda n: (len(n) * 7919) % 13)
    assert by_name(shuffled, str) == NAMES
    assert by_name(["Ư", "U", "Ơ", "Ô", "O", "Ê", "E", "Đ", "D", "Â", "Ă", "A", "b"], str) == \
        ["A", "Ă", "Â", "b", "D", "Đ", "E", "Ê", "O", "Ô", "Ơ", "U", "Ư"]


def test_home_page_members_in_vietnamese_order(site, web):
    add_named_institutions(site.extensions["lienhop.sessions"])
    page = web.get("/?lang=vi").get_data(as_text=True)
    members = section(page, 'id="members-title"', "</table>")
    assert order_in(members, NAMES) == NAMES
    # with the sample's members: Cục … < Đại học Huế < Đại học Quốc gia … < Trường …
    assert order_in(members, ["Trường Đại học Trà Vinh", "Đại học Huế", "Cục Thông tin"]) == \
        ["Cục Thông tin", "Đại học Huế", "Trường Đại học Trà Vinh"]


def test_home_page_in_english_follows_the_english_names(site, web):
    add_named_institutions(site.extensions["lienhop.sessions"])
    page = web.get("/?lang=en").get_data(as_text=True)
    members = section(page, 'id="members-title"', "</table>")
    assert order_in(members, ENGLISH) == sorted(ENGLISH)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_advanced_search_lists_institutions_in_order(site, web, lang):
    add_named_institutions(site.extensions["lienhop.sessions"])
    page = web.get(f"/advanced?lang={lang}").get_data(as_text=True)
    labels = re.findall(r'<label for="inst-\d+">([^<]*)</label>', page)
    shown = NAMES if lang == "vi" else ENGLISH
    assert [x for x in labels if x in shown] == (NAMES if lang == "vi" else sorted(ENGLISH))
    assert labels == by_name(labels, str)  # the sample's institutions too


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_resolver_library_chooser_in_order(site, web, lang):
    add_named_institutions(site.extensions["lienhop.sessions"])
    page = web.get(f"{ARTICLE}&lang={lang}").get_data(as_text=True)
    options = re.findall(r'<option value="[^"]+"[^>]*>([^<]*)</option>',
                         section(page, '<select id="inst"', "</select>"))
    shown = NAMES if lang == "vi" else ENGLISH
    assert [x for x in options if x in shown] == (NAMES if lang == "vi" else sorted(ENGLISH))
    assert options.index("Đại học Huế" if lang == "vi" else "Hue University") >= 0


def test_admin_institution_list_in_vietnamese_order(admin_app, boss):
    add_named_institutions(admin_app.extensions["lienhop.sessions"])
    page = boss.get("/admin/institutions").get_data(as_text=True)
    table = section(page, "<tbody>", "</tbody>")
    assert order_in(table, NAMES) == NAMES
    # the registry's own two: Đại học Huế, Đại học Trà Vinh, between D… and E…
    names = order_in(table, NAMES + ["Đại học Huế", "Đại học Trà Vinh"])
    assert names.index("Dược Hà Nội Đại học") < names.index("Đại học Huế") \
        < names.index("Đại học Kinh tế") < names.index("Đại học Trà Vinh") \
        < names.index("Eakar Trường")


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_admin_repositories_name_their_institution_and_follow_its_order(admin_app, boss, lang):
    sessions = admin_app.extensions["lienhop.sessions"]
    add_named_institutions(sessions)
    with db.transaction(sessions) as s:
        for name in ("Ưu tú Viện", "Ăn uống Viện Dinh dưỡng", "Viện Hàn lâm"):
            inst = s.scalar(select(Institution).where(Institution.name_vi == name))
            s.add(Repository(code=f"{inst.code}-repo", institution_id=inst.id,
                             oai_url="http://127.0.0.1:9/oai", schedule="manual"))
    page = boss.get(f"/admin/repositories?lang={lang}").get_data(as_text=True)
    rows = re.findall(r'<tr id="repo-([^"]+)"', page)
    cells = re.findall(r'<td><a href="/admin/institutions/[^"]+">([^<]*)</a></td>', page)
    if lang == "vi":
        assert cells == ["Ăn uống Viện Dinh dưỡng", "Đại học Huế", "Đại học Trà Vinh",
                         "Ưu tú Viện", "Viện Hàn lâm"]
        assert rows == ["x15-repo", "hue-dspace", "tvu-ojs", "x02-repo", "x01-repo"]
    else:  # the registry's own two have no English names: their Vietnamese ones
        assert cells == ["Academy of Sciences", "Đại học Huế", "Đại học Trà Vinh",
                         "Excellence Institute", "Nutrition Institute"]
        assert rows == ["x01-repo", "hue-dspace", "tvu-ojs", "x02-repo", "x15-repo"]
