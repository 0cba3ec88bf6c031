"""Helpers of the confirmation tests: the confirming form of a confirmation page
(resolver/views/admin/confirm.py), and small KBART files."""

from __future__ import annotations

import html
import re

__all__ = ["KBART_HEAD", "confirmation_form", "kbart"]

def confirmation_form(page: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the page's confirming form, as a browser posts it."""
    m = re.search(r'<form method="post" action="([^"]+)" id="confirm-form">(.*?)</form>',
                  page, re.S)
    assert m, "no confirmation form"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
                             m.group(2)))
    return html.unescape(m.group(1)), {k: html.unescape(v) for k, v in fields.items()}


KBART_HEAD = ("publication_title\tprint_identifier\tonline_identifier\tdate_first_issue_online"
              "\tnum_first_vol_online\tnum_first_issue_online\tdate_last_issue_online"
              "\tnum_last_vol_online\tnum_last_issue_online\ttitle_url\tfirst_author"
              "\ttitle_id\tembargo_info\tcoverage_depth\tnotes\tpublisher_name"
              "\tpublication_type\n")


def kbart(*titles: tuple[str, str]) -> bytes:
    rows = "".join(f"{title}\t{issn}\t\t2000-01-01\t\t\t\t\t\thttps://pub.example/{issn}"
                   f"\t\t{issn}\t\tfulltext\t\tPub\tserial\n" for title, issn in titles)
    return (KBART_HEAD + rows).encode()
