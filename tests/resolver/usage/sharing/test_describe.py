"""A policy in words, in English and in Vietnamese (the catalogue the pages and the CLI use)."""

from __future__ import annotations

from decimal import Decimal

from resolver.usage.sharing import Member, allocate, describe, preset

D = Decimal


POLICY = preset("hybrid", sponsor_fraction=D("0.5"), floor=D("1000"), cap=D("0.35"),
                smoothing=D("0.2"))


def test_english():
    text = describe(POLICY, currency="USD", year=2025)
    assert text[0] == ("The members' total is shared: 40% in equal shares; 60% in proportion "
                       "to use (COUNTER Total_Item_Requests, over 2024).")
    assert "The sponsor pays 50% of the cost centrally, before it is shared." in text
    assert "No member pays less than 1,000.00 USD for a full year." in text
    assert any("35%" in t for t in text) and any("20%" in t for t in text)
    assert text[-1].startswith("Amounts are rounded to whole cents")


def test_vietnamese(vi):
    text = describe(POLICY, vi, "vi", currency="VND", year=2025)
    assert text[0].startswith("Phần các thành viên đóng được chia: 40% chia đều; 60% theo tỷ lệ")
    assert "trong năm 2024" in text[0]
    assert "Không thành viên nào đóng dưới 1.000,00 VND cho cả năm." in text
    assert text[-1].startswith("Số tiền được làm tròn đến đồng")
    size = describe(preset("size"), vi, "vi")
    assert "sinh viên, số điểm từ 0: 1; từ 5.000: 2" in size[0]


def test_every_policy_shape_is_translated(vi):
    # every branch of describe() and every note, through the Vietnamese catalogue
    for kind in ("equal", "use", "size", "hybrid"):
        for extra in ({}, {"sponsor_amount": D("10")}, {"pro_rata": False},
                      {"missing": "mean"}, {"missing": "equal"}):
            assert describe(preset(kind, **extra), vi, "vi")
    got = allocate(preset("use", cap=D("0.6")), [Member("a", use=1), Member("b")], 100, "USD")
    assert got.notes[0].text(vi, "vi").startswith("b chưa có số liệu sử dụng")
