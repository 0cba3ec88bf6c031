"""Why a schedule is refused, in the reader's language on the repository form; in English
for the registry file and the logs (``str()`` of the error, unchanged)."""

from __future__ import annotations

import pytest

from resolver.registry.schedule import ScheduleError, parse_schedule, schedule_problem

pytestmark = pytest.mark.usefixtures("cheap_hashes")

FORM = {"code": "hue-koha", "oai_url": "https://repo.hue.example/oai",
        "metadata_prefix": "oai_dc", "enabled": "on"}


@pytest.mark.parametrize(("schedule", "vietnamese", "english"), [
    ("99 * * * *", "lịch &#39;99 * * * *&#39;: trường phút &#39;99&#39; nằm ngoài 0-59",
     "schedule &#39;99 * * * *&#39;: minute field &#39;99&#39; is outside 0-59"),
    ("0 0 31 2 *", "không bao giờ chạy", "it never runs"),
    ("every 0h", "khoảng cách phải lớn hơn 0", "an interval must be positive"),
    ("sometimes", "không phải một trong manual, hourly, daily, weekly, monthly",
     "is not one of manual, hourly, daily, weekly, monthly"),
])
def test_the_repository_form_says_why_in_the_page_language(hue_admin, schedule, vietnamese,
                                                          english):
    url = "/admin/institutions/hue/repositories/new"
    vi = hue_admin.post(url + "?lang=vi", dict(FORM, schedule=schedule))
    assert vi.status_code == 422
    page = vi.get_data(as_text=True)
    assert "Lịch thu thập: lịch" in page and vietnamese in page
    assert english not in page
    en = hue_admin.post(url + "?lang=en", dict(FORM, schedule=schedule))
    assert en.status_code == 422 and english in en.get_data(as_text=True)


def test_the_english_message_is_unchanged_for_files_and_logs():
    assert schedule_problem("99 * * * *") == \
        "schedule '99 * * * *': minute field '99' is outside 0-59"
    with pytest.raises(ScheduleError) as caught:
        parse_schedule("every 99999999999d")
    assert str(caught.value) == ("schedule 'every 99999999999d': an interval is at most 366 "
                                 "days (every 366d); say 'manual' for rarer harvests")
    with pytest.raises(ScheduleError) as caught:
        parse_schedule("99 * * * *")
    words = {"minute": "phút", "schedule %(value)s: %(why)s": "lịch %(value)s: %(why)s"}
    assert caught.value.message(lambda m: words.get(m, m)) == \
        "lịch '99 * * * *': phút field '99' is outside 0-59"
