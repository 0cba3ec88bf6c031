"""Whether a word could be a Vietnamese syllable as Vietnamese is spelt (pure).

Vietnamese is written in a closed set of syllables: an onset consonant (or none), a rhyme
from a fixed list (medial, vowel nucleus, final), and one tone. A word typed in that shape
is a real word — "đi", "hướng", "nghiêng" — even when no record holds it, so "did you mean"
(index/suggestion.py) never rewrites it into another word that happens to be one edit away
("hướng đi" → "hướng đại"). What no syllable can be — "vieetj" (Telex keys left
unconverted), "hcọ", "khoẻe", "thuw", "vein", "hydrolgoy", a stop final without its sắc or
nặng tone ("sưc") — is a slip, and the index's vocabulary may correct it.

The rule is the orthography's (onsets, the rhymes below, the stop-final tones), not a
dictionary: a well-shaped syllable that no one uses passes too. Words typed without any
mark are judged on their letters alone (their tone is not known), so "huong di" is well
shaped as well.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

__all__ = ["is_well_formed"]

_ACUTE, _DOT = "\u0301", "\u0323"
#: the five tone marks (the letter marks ^ ˘ and the horn are part of the letters)
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
#: onsets, longest first (so "ngh" is tried before "ng" and "n")
_ONSETS = ("ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "th", "tr", "qu",
           "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "")
#: every rhyme of standard Vietnamese spelling, without its tone, by nucleus (a table to read)
_RHYME_TABLE = """
a ac ach ai am an ang anh ao ap at au ay
ă ăc ăm ăn ăng ăp ăt
â âc âm ân âng âp ât âu ây
e ec em en eng eo ep et
ê êch êm ên ênh êp êt êu
i ia ich im in inh ip it iu iêc iêm iên iêng iêp iêt iêu
o oc oi om on ong op ot ooc oong
ô ôc ôi ôm ôn ông ôp ôt
ơ ơi ơm ơn ơp ơt
u ua uc ui um un ung up ut uôc uôi uôm uôn uông uôt
ư ưa ưc ưi ưm ưn ưng ưp ưt ưu ươc ươi ươm ươn ương ươp ươt ươu
y yêm yên yêt yêu
oa oac oach oai oam oan oang oanh oao oap oat oay oăc oăm oăn oăng oăt oe oen oeo oet
uân uâng uât uây uê uêch uên uênh uơ uy uya uych uyn uynh uyp uyt uyu uyên uyêt
"""
_RHYMES = frozenset(_RHYME_TABLE.split())
#: the rhymes as typed without any mark ("uong" for uông and ương)
_BARE_RHYMES = frozenset(
    unicodedata.normalize("NFD", r).encode("ascii", "ignore").decode() for r in _RHYMES)
#: finals after which only the sắc and nặng tones occur
_STOPS = ("c", "ch", "p", "t")


@lru_cache(maxsize=65_536)
def is_well_formed(word: str) -> bool:
    """Whether ``word`` (one syllable) is spelt as a Vietnamese syllable can be.

    >>> [is_well_formed(w) for w in ("đi", "Hướng", "nghiêng", "quýt", "gì", "huong")]
    [True, True, True, True, True, True]
    >>> [is_well_formed(w) for w in ("vieetj", "hcọ", "khoẻe", "thuw", "vein", "sưc", "bar")]
    [False, False, False, False, False, False, False]
    """
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = [c for c in decomposed if c in _TONE_MARKS]
    if len(tones) > 1:
        return False
    letters = unicodedata.normalize("NFC", "".join(c for c in decomposed
                                                  if c not in _TONE_MARKS))
    # typed with its marks, a word is judged with them (and its tone); typed bare, on its
    # letters alone ("đ" typed as "d" is the bare onset d)
    marked = bool(tones) or not letters.isascii()
    for onset in _ONSETS:
        if not letters.startswith(onset):
            continue
        rhyme = letters[len(onset):]
        rhymes = _RHYMES if marked else _BARE_RHYMES
        if _rhyme_ok(onset, rhyme, rhymes) and (not marked or _tone_ok(rhyme, tones)):
            return True
    return False


def _rhyme_ok(onset: str, rhyme: str, rhymes: frozenset[str]) -> bool:
    if onset == "gi" and rhyme == "":
        return True  # "gì": the i of the onset is the vowel
    if onset == "qu":
        # the u of "qu" is the rhyme's medial: "quýt" is qu + yt, as "huýt" is h + uyt
        return rhyme in rhymes or "u" + rhyme in rhymes
    return rhyme in rhymes


def _tone_ok(rhyme: str, tones: list[str]) -> bool:
    """A syllable ending in a stop carries the sắc or the nặng tone ("sức", "học")."""
    if rhyme.endswith(_STOPS):
        return bool(tones) and tones[0] in (_ACUTE, _DOT)
    return True
