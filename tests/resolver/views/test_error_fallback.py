"""The error page of last resort (resolver/views/error_fallback.py), as plain values: the
reader's language chosen as the site chooses it, every status class covered, nothing
unescaped."""

from __future__ import annotations

import pytest

from resolver.views import error_fallback as fb


@pytest.mark.parametrize("asked, remembered, lang", [
    (None, None, "vi"), ("en", None, "en"), (None, "en", "en"), ("vi", "en", "vi"),
    ("fr", "en", "en"), ("fr", "de", "vi"),
])
def test_language_as_the_site_chooses_it(asked, remembered, lang):
    assert fb.language(asked, remembered) == lang


@pytest.mark.parametrize("status", [400, 403, 404, 405, 409, 413, 422, 500, 502, 503])
def test_every_status_has_words_in_both_languages(status):
    vi, en = fb.texts(status, "vi"), fb.texts(status, "en")
    assert all(vi) and all(en) and vi != en
    assert fb.texts(status, "xx") == vi


def test_the_page_has_the_site_header_and_escapes_what_it_is_given():
    html = fb.page(404, "en", home='/x"><script>', stylesheet="/static/lienhop.css?v=1&a=2")
    assert html.startswith("<!doctype html>") and '<html lang="en">' in html
    assert '<header class="site"' in html and "Page not found" in html
    assert "<script>" not in html and "&amp;a=2" in html
    no_home = fb.page(400, "vi", home=None, stylesheet=None)
    assert "<a " not in no_home and "Yêu cầu không hợp lệ" in no_home
