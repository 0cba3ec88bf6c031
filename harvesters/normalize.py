"""Pure helpers shared by the metadata crosswalks.

Everything here takes plain strings and returns plain values, so each rule can be tested on its
own and every crosswalk normalises the same way. Nothing strips diacritics: Vietnamese text is
only ever NFC-composed and whitespace-collapsed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import unquote

from index.identifiers import DOI_PREFIX, isbn10_check, isbn13_check, issn_check
from index.record import OPEN, RESTRICTED

# XML 1.0 forbids these; some repositories still emit them (U+0003 in a Dataverse title, ...).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_WS = re.compile(r"\s+")


def clean_text(value: str | None) -> str:
    """NFC-compose, drop control characters and collapse whitespace.

    >>> clean_text("  Lua\u0323\u0302n  va\u0306n\\n tha\u0323c si\u0303 ")
    'Luận văn thạc sĩ'
    >>> clean_text(None)
    ''
    """
    if not value:
        return ""
    text = _ILLEGAL.sub(" ", value)
    text = unicodedata.normalize("NFC", text)
    return _WS.sub(" ", text).strip()


def dedupe(values: Iterable[str | None]) -> list[str]:
    """Clean every value, drop empty ones and case-insensitive duplicates, keep first order.

    >>> dedupe(["Huế", " huế ", "", None, "Hà Nội"])
    ['Huế', 'Hà Nội']
    """
    seen: set[str] = set()
    out: list[str] = []
    for raw in values:
        text = clean_text(raw)
        key = text.casefold()
        if text and key not in seen:
            seen.add(key)
            out.append(text)
    return out


_TRAILING_PUNCT = re.compile(r"[\s/:;,=.]+$")


def trim_punctuation(value: str | None) -> str:
    """Clean a value and drop the ISBD punctuation MARC cataloguers leave at the end.

    A final full stop is kept after an initial or a common abbreviation.

    >>> trim_punctuation("Giáo trình tin học cơ sở /")
    'Giáo trình tin học cơ sở'
    >>> trim_punctuation("Nguyễn, Văn A.")
    'Nguyễn, Văn A.'
    >>> trim_punctuation("Loen, Johann Michael von.")
    'Loen, Johann Michael von'
    """
    text = clean_text(value)
    if text.endswith(".") and _is_abbreviation_end(text):
        return text
    return _TRAILING_PUNCT.sub("", text)


def _is_abbreviation_end(text: str) -> bool:
    words = text.split()
    last = words[-1] if words else ""
    core = last.rstrip(".").lstrip("(")
    return (len(core) == 1 and core.isalpha() and core.isupper()) or core in {
        "Jr", "Sr", "St", "Dr", "etc", "ed", "eds", "Co", "Inc", "Ltd", "Tp", "TP", "tr",
    }


def split_values(value: str | None, sep: str = ";") -> list[str]:
    """Split a delimited value (OJS puts all keywords in one dc:subject) into clean parts.

    >>> split_values("thư viện số; OAI-PMH ;  ; Huế")
    ['thư viện số', 'OAI-PMH', 'Huế']
    """
    return [part for part in (clean_text(p) for p in (value or "").split(sep)) if part]


# --- identifiers --------------------------------------------------------------------------------

_DOI = re.compile(r"10\.\d{4,9}/\S+")


def normalise_doi(value: str | None) -> str | None:
    """Return the bare lower-case DOI in a value, or None.

    >>> normalise_doi("https://doi.org/10.1234/ABC.5")
    '10.1234/abc.5'
    >>> normalise_doi("doi: 10.15625/0866-708X/55/1/8521.")
    '10.15625/0866-708x/55/1/8521'
    >>> normalise_doi("http://dx.doi.org/10.26459%2Fhueuni-jed.v130i5C.6123")
    '10.26459/hueuni-jed.v130i5c.6123'
    >>> normalise_doi("ISBN 978-604-0-00000-0") is None
    True
    """
    text = clean_text(value)
    if not text:
        return None
    text = DOI_PREFIX.sub("", text)
    if "%2f" in text.lower():
        text = unquote(text)
    match = _DOI.search(text)
    if not match:
        return None
    return match.group(0).rstrip(".,;)]>\"'").lower()


def is_doi(value: str | None) -> bool:
    """True when the value *is* a DOI (bare, "doi:" or resolver URL), not merely mentions one."""
    text = clean_text(value)
    return bool(text) and (
        bool(DOI_PREFIX.match(text)) or bool(re.match(r"^10\.\d{4,9}/\S+$", text))
    )


_ISBN_CANDIDATE = re.compile(r"(?<![\dX])(?:\d[\s-]?){9,12}[\dXx](?![\dX])")


def normalise_isbn(value: str | None) -> str | None:
    """Return the ISBN-13 (digits only) in a value, converting ISBN-10; None when invalid.

    >>> normalise_isbn("ISBN 0-306-40615-2 (pbk.)")
    '9780306406157'
    >>> normalise_isbn("978-604-913-088-5")
    '9786049130885'
    >>> normalise_isbn("0-306-40615-3") is None
    True
    """
    for match in _ISBN_CANDIDATE.finditer(clean_text(value)):
        digits = re.sub(r"[\s-]", "", match.group(0)).upper()
        if len(digits) == 10 and digits[:9].isdigit() and isbn10_check(digits) == digits[9]:
            core = "978" + digits[:9]
            return core + isbn13_check(core)
        if (
            len(digits) == 13
            and digits.isdigit()
            and digits[:3] in {"978", "979"}
            and isbn13_check(digits) == digits[12]
        ):
            return digits
    return None


_ISSN = re.compile(r"(?<![\d-])(\d{4})\s*-?\s*(\d{3}[\dXx])(?![\d-])")


def normalise_issn(value: str | None) -> str | None:
    """Return "1234-567X" for the first ISSN in a value whose check digit is right, else None.

    >>> normalise_issn("ISSN: 1859-1388")
    '1859-1388'
    >>> normalise_issn("eISSN 2588-1205")
    '2588-1205'
    >>> normalise_issn("1859-1389") is None
    True
    """
    for match in _ISSN.finditer(clean_text(value)):
        digits = (match.group(1) + match.group(2)).upper()
        if issn_check(digits) == digits[7]:
            return f"{digits[:4]}-{digits[4:]}"
    return None


_HANDLE_PATTERNS = (
    re.compile(r"^https?://hdl\.handle\.net/(?:api/handles/)?([^\s?#]+)", re.IGNORECASE),
    re.compile(r"^(?:hdl:|info:hdl/)\s*([^\s?#]+)", re.IGNORECASE),
    # DSpace item pages: https://repo.example.vn/handle/123456789/42
    re.compile(r"^https?://[^\s]+?/handle/([\w.-]+/\d[\w.-]*)", re.IGNORECASE),
)


def normalise_handle(value: str | None) -> str | None:
    """Return "prefix/suffix" for a Handle URL, hdl: URI or DSpace /handle/ item URL.

    >>> normalise_handle("http://hdl.handle.net/123456789/42")
    '123456789/42'
    >>> normalise_handle("hdl:1765/315")
    '1765/315'
    >>> normalise_handle("https://repository.vnu.edu.vn/handle/VNU_123/1501/")
    'VNU_123/1501'
    >>> normalise_handle("http://elib.hueuni.edu.vn/handle/123456789/4711")
    '123456789/4711'
    """
    text = clean_text(value)
    for pattern in _HANDLE_PATTERNS:
        match = pattern.match(text)
        if match:
            handle = unquote(match.group(1)).rstrip("/")
            if re.fullmatch(r"[\w.-]+/[^\s/]+", handle):
                return handle
    return None


_URL = re.compile(r"^(?:https?|ftp)://\S+$", re.IGNORECASE)


def normalise_url(value: str | None) -> str | None:
    """Return the value when it is an absolute http(s)/ftp URL without spaces, else None.

    >>> normalise_url(" https://tapchi.hueuni.edu.vn/index.php/jed/article/view/6123 ")
    'https://tapchi.hueuni.edu.vn/index.php/jed/article/view/6123'
    >>> normalise_url("www.example.org") is None
    True
    """
    text = clean_text(value)
    return text if _URL.match(text) else None


_FULLTEXT = re.compile(
    r"(?:\.pdf(?:$|[?#])|/bitstream/|/bitstreams/[^/]+/(?:content|download)"
    r"|/article/download/|/article/view/\d+/\d+|/download/\d+/\d+)",
    re.IGNORECASE,
)


def is_fulltext_url(url: str | None) -> bool:
    """True for links that point at a file rather than a landing page.

    >>> is_fulltext_url("https://elib.hueuni.edu.vn/bitstream/123456789/42/1/LV.pdf")
    True
    >>> is_fulltext_url("https://jos.hueuni.edu.vn/index.php/TCKHDHH/article/view/5012/3021")
    True
    >>> is_fulltext_url("https://jos.hueuni.edu.vn/index.php/TCKHDHH/article/view/5012")
    False
    """
    return bool(url) and bool(_FULLTEXT.search(url or ""))


class Identifier(NamedTuple):
    """One identifier value classified by :func:`classify_identifier`."""

    kind: str  # "doi", "handle", "isbn", "issn", "url" or "other"
    value: str


_LABELLED_ISBN = re.compile(r"^\s*isbn\b", re.IGNORECASE)
_LABELLED_ISSN = re.compile(r"^\s*(?:e-?|p-?|print\s+|online\s+)?issn\b", re.IGNORECASE)


def classify_identifier(value: str | None) -> list[Identifier]:
    """Say what an untyped identifier is (dc:identifier, MODS identifier without type ...).

    A Handle or DOI URL yields both the normalised id and, for Handles, the URL.

    >>> classify_identifier("doi:10.1234/X")
    [Identifier(kind='doi', value='10.1234/x')]
    >>> classify_identifier("http://hdl.handle.net/123456789/42")
    [Identifier(kind='handle', value='123456789/42'), Identifier(kind='url', value='http://hdl.handle.net/123456789/42')]
    >>> classify_identifier("0-306-40615-2")
    [Identifier(kind='isbn', value='9780306406157')]
    >>> classify_identifier("ISSN 1859-1388")
    [Identifier(kind='issn', value='1859-1388')]
    """  # noqa: E501
    text = clean_text(value)
    if not text:
        return []
    if is_doi(text):
        doi = normalise_doi(text)
        return [Identifier("doi", doi)] if doi else []
    found: list[Identifier] = []
    handle = normalise_handle(text)
    if handle:
        found.append(Identifier("handle", handle))
    url = normalise_url(text)
    if url:
        found.append(Identifier("url", url))
    if found:
        return found
    if _LABELLED_ISSN.match(text):
        issn = normalise_issn(text)
        return [Identifier("issn", issn)] if issn else []
    if _LABELLED_ISBN.match(text) or re.fullmatch(r"[\d\s-]{9,17}[\dXx]", text):
        isbn = normalise_isbn(text)
        if isbn:
            return [Identifier("isbn", isbn)]
    if re.fullmatch(r"\d{4}-\d{3}[\dXx]", text):
        issn = normalise_issn(text)
        if issn:
            return [Identifier("issn", issn)]
    return [Identifier("other", text)]


# --- dates --------------------------------------------------------------------------------------

_YEAR = re.compile(r"(?<!\d)(1[4-9]\d\d|20\d\d)(?!\d)")
_W3CDTF = re.compile(
    r"^(\d{4}(?:-\d{2}(?:-\d{2})?)?)"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)


def extract_year(value: str | None) -> int | None:
    """Return the first plausible year (1400-2099) in a date string.

    >>> extract_year("c2015.")
    2015
    >>> extract_year("Huế, tháng 5 năm 2019")
    2019
    >>> extract_year("05/2021")
    2021
    >>> extract_year("không rõ năm") is None
    True
    """
    match = _YEAR.search(clean_text(value))
    return int(match.group(1)) if match else None


def normalise_date(value: str | None) -> str:
    """Trim W3CDTF timestamps to their date part; leave other date strings as cleaned text.

    >>> normalise_date("2019-05-03T00:00:00Z")
    '2019-05-03'
    >>> normalise_date("[2015]")
    '[2015]'
    """
    text = clean_text(value)
    match = _W3CDTF.match(text)
    return match.group(1) if match else text


# --- types --------------------------------------------------------------------------------------

# Checked in order: a "doctoral thesis" must become a dissertation before "thesis" matches, a
# "bài báo hội thảo" a conference paper before "bài báo" makes it an article.
_TYPE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "dissertation",
        re.compile(
            r"doctoral|dissertation|ph\.?\s?d|luận án|tiến sĩ|tiến sỹ|luan an|tien si",
            re.IGNORECASE,
        ),
    ),
    (
        "thesis",
        re.compile(
            r"thesis|theses|luận văn|khóa luận|khoá luận|thạc sĩ|thạc sỹ|cử nhân|luan van"
            r"|khoa luan|master|bachelor|mémoire|tese|tesis|diplomarbeit",
            re.IGNORECASE,
        ),
    ),
    (
        "conference paper",
        re.compile(
            r"conference|proceedings|hội thảo|hội nghị|kỷ yếu|kỉ yếu|symposium|workshop",
            re.IGNORECASE,
        ),
    ),
    (
        "article",
        re.compile(
            r"article|bài báo|bài viết|bài tạp chí|contributiontoperiodical"
            r"|journal[\s_-]?article|preprint|artigo|artículo",
            re.IGNORECASE,
        ),
    ),
    (
        "report",
        re.compile(r"report|báo cáo|working\s?paper|technical|đề tài|nghiên cứu khoa học cấp",
                   re.IGNORECASE),
    ),
    (
        "book",
        re.compile(r"\bbook|bookpart|\bsách\b|giáo trình|monograph|chapter|chương sách|livro",
                   re.IGNORECASE),
    ),
    ("dataset", re.compile(r"dataset|data set|\bdata\b|bộ dữ liệu|cơ sở dữ liệu", re.IGNORECASE)),
)


def map_type(values: Iterable[str | None]) -> str:
    """Map the source's type strings to one of ``index.record.TYPES`` (first recognised wins).

    >>> map_type(["Text", "info:eu-repo/semantics/masterThesis"])
    'thesis'
    >>> map_type(["Luận án tiến sĩ"])
    'dissertation'
    >>> map_type(["Bài báo"])
    'article'
    >>> map_type(["Still Image"])
    'other'
    """
    for raw in values:
        text = clean_text(raw)
        if not text:
            continue
        for name, pattern in _TYPE_RULES:
            if pattern.search(text):
                return name
    return "other"


# --- languages ----------------------------------------------------------------------------------

_LANGUAGE_NAMES: dict[str, str] = {
    "vietnamese": "vie", "tiếng việt": "vie", "việt": "vie", "tieng viet": "vie", "vn": "vie",
    "viet": "vie", "english": "eng", "tiếng anh": "eng", "anh": "eng", "french": "fra",
    "français": "fra", "francais": "fra", "tiếng pháp": "fra", "german": "deu",
    "deutsch": "deu", "tiếng đức": "deu", "chinese": "zho", "tiếng trung": "zho",
    "tiếng hoa": "zho", "japanese": "jpn", "tiếng nhật": "jpn", "korean": "kor",
    "tiếng hàn": "kor", "russian": "rus", "tiếng nga": "rus", "spanish": "spa",
    "español": "spa", "portuguese": "por", "português": "por", "italian": "ita",
    "lao": "lao", "tiếng lào": "lao", "khmer": "khm", "tiếng khmer": "khm", "thai": "tha",
    "tiếng thái": "tha", "latin": "lat", "dutch": "nld",
}
_ISO639_1: dict[str, str] = {
    "vi": "vie", "en": "eng", "fr": "fra", "de": "deu", "zh": "zho", "ja": "jpn", "ko": "kor",
    "ru": "rus", "es": "spa", "pt": "por", "it": "ita", "lo": "lao", "km": "khm", "th": "tha",
    "la": "lat", "nl": "nld", "pl": "pol", "cs": "ces", "id": "ind", "ms": "msa", "ar": "ara",
    "sv": "swe", "da": "dan", "fi": "fin", "no": "nor", "el": "ell", "tr": "tur", "uk": "ukr",
    "hu": "hun", "ro": "ron", "ca": "cat", "he": "heb", "hi": "hin", "fa": "fas",
}
# ISO 639-2/B bibliographic codes (what MARC uses) → the 639-3 / 639-2/T code.
_ISO639_2B: dict[str, str] = {
    "fre": "fra", "ger": "deu", "chi": "zho", "cze": "ces", "dut": "nld", "gre": "ell",
    "per": "fas", "rum": "ron", "slo": "slk", "wel": "cym", "alb": "sqi", "arm": "hye",
    "baq": "eus", "bur": "mya", "geo": "kat", "ice": "isl", "mac": "mkd", "mao": "mri",
    "may": "msa", "tib": "bod",
}
_NO_LANGUAGE = {"und", "zxx", "mis", "mul", "n/a", "none", "other", "khác"}


def map_language(value: str | None) -> str:
    """Map a language code or name to ISO 639-3, or "" when unknown.

    >>> [map_language(v) for v in ("vi", "vi_VN", "vn", "Tiếng Việt", "en_US", "English", "fre")]
    ['vie', 'vie', 'vie', 'vie', 'eng', 'eng', 'fra']
    >>> map_language("und")
    ''
    """
    text = clean_text(value).casefold()
    if not text or text in _NO_LANGUAGE:
        return ""
    if text in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[text]
    code = re.split(r"[_\-\s(]", text, maxsplit=1)[0]
    if code in _ISO639_1:
        return _ISO639_1[code]
    if code in _ISO639_2B:
        return _ISO639_2B[code]
    if re.fullmatch(r"[a-z]{3}", code) and code not in _NO_LANGUAGE:
        return code
    return ""


# Letters only Vietnamese uses among Latin-script languages: ă đ ơ ư ĩ ũ and the
# Latin Extended Additional vowels with a dot below / hook above (U+1EA0-U+1EF9).
_VIETNAMESE_LETTER = re.compile("[ăâđêôơưĩũĂÂĐÊÔƠƯĨŨ\u1ea0-\u1ef9]")
_VIETNAMESE_ONLY = re.compile("[ăđơưĩũĂĐƠƯĨŨ\u1ea0-\u1ef9]")
_ENGLISH_WORDS = frozenset(
    {
        "the", "of", "and", "in", "for", "to", "on", "with", "a", "an", "by", "from", "at",
        "is", "are", "as", "its", "this", "that", "study", "analysis", "using", "based",
        "between", "effect", "effects", "case",
    }
)


def detect_language(text: str | None) -> str:
    """Guess "vie" or "eng" from running text, "" when unsure.

    >>> detect_language("Nghiên cứu đa dạng sinh học ở Thừa Thiên Huế")
    'vie'
    >>> detect_language("A study of the rice market in the Mekong Delta")
    'eng'
    >>> detect_language("Ensino Básico")
    ''
    """
    words = clean_text(text).split()
    if not words:
        return ""
    vietnamese = sum(1 for w in words if _VIETNAMESE_LETTER.search(w))
    if _VIETNAMESE_ONLY.search(" ".join(words)) and vietnamese / len(words) >= 0.2:
        return "vie"
    lowered = [w.strip(".,;:()\"'").casefold() for w in words]
    ascii_words = [w for w in lowered if w.isascii()]
    if len(ascii_words) / len(words) < 0.9:
        return ""
    hits = sum(1 for w in ascii_words if w in _ENGLISH_WORDS)
    if hits >= 1 and (hits >= 2 or len(words) <= 6):
        return "eng"
    return ""


# --- source citations ---------------------------------------------------------------------------


class SourceCitation(NamedTuple):
    """The host publication parsed out of a citation string such as dc:source."""

    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    year: int | None = None

    @property
    def has_enumeration(self) -> bool:
        """True when volume, issue or pages were found, i.e. this really is a citation."""
        return bool(self.volume or self.issue or self.pages)


_VOLUME = re.compile(r"(?<!\w)(?:vol(?:ume)?\.?|v\.|tập|t\.)\s*(\d+[A-Za-z]?)", re.IGNORECASE)
_ISSUE = re.compile(
    r"(?<!\w)(?:no\.?|num(?:ber|\.)?|issue|iss\.|số|n[°º]\.?|nr\.?)\s*(\d+[A-Za-z]?(?:\s*[-/]\s*\d+)?)",
    re.IGNORECASE,
)
_PAGES_LABELLED = re.compile(
    r"(?<!\w)(?:pp?\.|pages?|tr\.|trang)\s*(\d+\s*[-–—]\s*\d+|\d+)", re.IGNORECASE
)
_PAGES_TRAILING = re.compile(r"[;:,)]\s*(\d+\s*[-–—]\s*\d+)\s*\.?$")
_APA = re.compile(r"(?<![\w.])(\d{1,4})\s*\((\d+[A-Za-z]?(?:[-/]\d+)?)\)")
_YEAR_PAREN = re.compile(r"\((?:[^()]*?\b)?(1[89]\d\d|20\d\d)\)")


def parse_source_citation(value: str | None) -> SourceCitation:
    """Parse a journal citation string into journal, volume, issue, pages and year.

    Without any volume/issue/pages the whole string is returned as the journal and
    ``has_enumeration`` is False, so callers can decide whether to trust it.

    >>> parse_source_citation("Tạp chí Khoa học, Tập 12, Số 3, tr. 45-52")
    SourceCitation(journal='Tạp chí Khoa học', volume='12', issue='3', pages='45-52', year=None)
    >>> parse_source_citation("Journal X; Vol 5, No 2 (2019); 10-20")
    SourceCitation(journal='Journal X', volume='5', issue='2', pages='10-20', year=2019)
    >>> parse_source_citation("Journal of Hydrology, 12(3), 45-52")
    SourceCitation(journal='Journal of Hydrology', volume='12', issue='3', pages='45-52', year=None)
    """
    text = clean_text(value)
    if not text:
        return SourceCitation()
    starts: list[int] = []
    volume = issue = pages = ""
    if m := _VOLUME.search(text):
        volume = m.group(1)
        starts.append(m.start())
    if m := _ISSUE.search(text):
        issue = re.sub(r"\s+", "", m.group(1))
        starts.append(m.start())
    if not volume and (m := _APA.search(text)):
        volume, issue = m.group(1), m.group(2)
        starts.append(m.start())
    if m := _PAGES_LABELLED.search(text):
        pages = m.group(1)
        starts.append(m.start())
    elif m := _PAGES_TRAILING.search(text):
        pages = m.group(1)
        starts.append(m.start() + 1)
    year = None
    if m := _YEAR_PAREN.search(text):
        year = int(m.group(1))
        if not starts:
            starts.append(m.start())
    pages = re.sub(r"\s*[-–—]\s*", "-", pages)
    journal = text[: min(starts)] if starts else text
    journal = re.sub(r"[\s,;:.(\-–]+$", "", journal)
    # "Journal, 2019, 12(3)" leaves the year behind the journal name.
    journal = re.sub(r"[\s,;]+(?:1[89]\d\d|20\d\d)$", "", journal)
    return SourceCitation(journal=journal, volume=volume, issue=issue, pages=pages, year=year)


# --- rights -------------------------------------------------------------------------------------

_CLOSED = re.compile(
    r"info:eu-repo/semantics/(?:closed|restricted|embargoed)access|closed access|"
    r"restricted access|embargo|hạn chế|không công khai",
    re.IGNORECASE,
)
_OPEN = re.compile(
    r"info:eu-repo/semantics/openaccess|open[\s-]?access|creativecommons\.org|"
    r"\bcc[\s_-]?(?:by|0|zero)\b|creative commons|public domain|publicdomain|truy cập mở|"
    r"miễn phí|free access|\bopen\b",
    re.IGNORECASE,
)


def access_from_rights(values: Iterable[str | None]) -> str:
    """"open" when the rights say open access or carry a CC licence, else "restricted".

    An explicit closed/restricted/embargoed statement wins over a licence.

    >>> access_from_rights(["info:eu-repo/semantics/openAccess"])
    'open'
    >>> access_from_rights(["© Đại học Huế", "http://creativecommons.org/licenses/by-nc/4.0/"])
    'open'
    >>> access_from_rights(["info:eu-repo/semantics/embargoedAccess", "CC BY 4.0"])
    'restricted'
    >>> access_from_rights(["Copyright of the original work is retained by the author."])
    'restricted'
    """
    texts = [clean_text(v) for v in values]
    if any(_CLOSED.search(t) for t in texts):
        return RESTRICTED
    return OPEN if any(_OPEN.search(t) for t in texts) else RESTRICTED


_CC_URL = re.compile(
    r"creativecommons\.org/(?:licenses|licences)/([a-z-]+)/(\d\.\d)", re.IGNORECASE
)
_CC_ZERO = re.compile(r"creativecommons\.org/publicdomain/zero|\bcc[\s_-]?(?:0|zero)\b", re.I)
_CC_LABEL = re.compile(r"\bcc[\s_-]?(by(?:[\s_-](?:nc|nd|sa)){0,3})(?:[\s_-]?(\d\.\d))?", re.I)


def licence_from_rights(values: Iterable[str | None]) -> str:
    """Return a canonical Creative Commons licence name found in the rights, or "".

    >>> licence_from_rights(["http://creativecommons.org/licenses/by-nc-sa/4.0/"])
    'CC BY-NC-SA 4.0'
    >>> licence_from_rights(["cc_by"])
    'CC BY'
    >>> licence_from_rights(["Bản quyền thuộc về tác giả"])
    ''
    """
    for raw in values:
        text = clean_text(raw)
        if m := _CC_URL.search(text):
            return f"CC {m.group(1).upper()} {m.group(2)}"
        if _CC_ZERO.search(text):
            return "CC0"
        if m := _CC_LABEL.search(text):
            parts = re.split(r"[\s_-]+", m.group(1).upper())
            name = "CC " + "-".join(parts)
            return f"{name} {m.group(2)}" if m.group(2) else name
    return ""
