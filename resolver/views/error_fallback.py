"""The error page of last resort: written with plain Python strings, in Vietnamese or English,
for the moment when the templates, the message catalogues or the database are what failed.

Pure: no Jinja, no Babel, no request. ``resolver.views.errors`` uses it only when rendering
the site's own error page (``templates/error.html``) raised; the page keeps the site's header
and stylesheet, so a reader still sees where they are. Its few sentences live here, not in
the catalogue, because the catalogue may be what is broken.
"""

from __future__ import annotations

from html import escape

LANGUAGES = ("vi", "en")

SITE_NAME = {
    "vi": "Liên hợp Thư viện Việt Nam về nguồn tin KH&CN",
    "en": "Vietnam Library Consortium on S&T information sources",
}
HOME = {"vi": "Trang chủ", "en": "Home"}

#: status -> (title, message) in each language; any other status takes its class's (4xx, 5xx)
TEXTS: dict[str, dict[int, tuple[str, str]]] = {
    "vi": {
        400: ("Yêu cầu không hợp lệ",
              "Máy chủ không hiểu yêu cầu này. Hãy kiểm tra liên kết, hoặc quay lại và thử lại."),
        403: ("Không được phép",
              "Tài khoản của bạn không được mở trang này."),
        404: ("Không tìm thấy trang",
              "Không có trang nào ở địa chỉ này: biểu ghi có thể đã được kho gốc rút lại, "
              "hoặc liên kết bị gõ sai. Hãy thử tìm kiếm."),
        405: ("Không thực hiện được thao tác này",
              "Địa chỉ này không nhận loại yêu cầu vừa gửi."),
        413: ("Dữ liệu quá lớn",
              "Dữ liệu gửi lên lớn hơn mức địa chỉ này nhận. Chưa có gì được lưu."),
        500: ("Đã có lỗi xảy ra",
              "Máy chủ không hoàn thành được yêu cầu của bạn. Vui lòng thử lại sau ít phút; "
              "nếu lỗi lặp lại, hãy báo cho cán bộ của Liên hợp."),
    },
    "en": {
        400: ("Bad request",
              "The server could not understand this request. Check the link, or go back and "
              "try again."),
        403: ("Not allowed",
              "Your account may not open this page."),
        404: ("Page not found",
              "There is no page at this address: a record may have been withdrawn by its "
              "repository, or the link may be mistyped. Try searching for it."),
        405: ("This action is not possible here",
              "This address does not accept the kind of request that was sent."),
        413: ("Too much data",
              "The data sent is larger than this address accepts. Nothing was saved."),
        500: ("Something went wrong",
              "The server could not complete your request. Please try again in a few "
              "minutes; if it happens again, tell the consortium's staff."),
    },
}


def language(asked: str | None, remembered: str | None) -> str:
    """The reader's language as ``resolver.web.i18n`` chooses it (``?lang=``, then the
    cookie, then Vietnamese), without Babel."""
    for code in (asked, remembered):
        if code in LANGUAGES:
            return code
    return LANGUAGES[0]


def texts(status: int, lang: str) -> tuple[str, str]:
    """The title and the sentence for ``status`` in ``lang``."""
    table = TEXTS[lang if lang in TEXTS else LANGUAGES[0]]
    return table.get(status) or table[500 if status >= 500 else 400]


def page(status: int, lang: str, *, home: str | None, stylesheet: str | None) -> str:
    """The whole page: the site's header (a link home when ``home`` is given), the title and
    the sentence, in ``lang``."""
    lang = lang if lang in LANGUAGES else LANGUAGES[0]
    title, message = texts(status, lang)
    site = SITE_NAME[lang]
    brand = '<span class="logo" aria-hidden="true">LH</span> lienhop'
    brand = (f'<a class="brand" href="{escape(home)}">{brand}</a>' if home
             else f'<span class="brand">{brand}</span>')
    css = f'\n  <link rel="stylesheet" href="{escape(stylesheet)}">' if stylesheet else ""
    back = f'\n  <p><a href="{escape(home)}">{HOME[lang]}</a></p>' if home else ""
    return f"""<!doctype html>
<html lang="{lang}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>{escape(title)} · {escape(site)}</title>{css}
</head>
<body>
  <header class="site" role="banner">
    <div class="bar">{brand} <span class="tagline">{escape(site)}</span></div>
  </header>
  <main id="main">
  <h1>{escape(title)}</h1>
  <p role="alert">{escape(message)}</p>{back}
  </main>
</body>
</html>
"""
