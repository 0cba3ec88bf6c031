"""Language codes and names → ISO 639-3, and a guess from running text."""

from __future__ import annotations

import re

from harvesters.normalize.text import clean_text

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
