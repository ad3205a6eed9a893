"""Words, scripts and languages: the tokeniser every offline detector shares, and language identification.

Languages are told apart by their function words (articles, pronouns, prepositions, auxiliaries),
non-Latin scripts by their Unicode names; both are generic markers that name no corpus's content.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from functools import lru_cache

WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
ASCII_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")  # WORD on ASCII text (twice as fast; `words` uses it)


def byte_table(keep: str) -> bytes:
    """A bytes.translate table that keeps the ASCII characters in `keep` and turns every other byte into a space."""
    return bytes(c if chr(c) in keep else 32 for c in range(256))


LETTER_BYTES = byte_table(string.ascii_letters + "'")
# An apostrophe that does not join two runs of letters, or joins a third: where a run of letters and
# apostrophes is more than one word (e.g. quote marks); without one, ASCII_WORD's matches are the runs.
LONE_APOSTROPHE = re.compile(r"'(?:(?<![A-Za-z]')|(?![A-Za-z])|[A-Za-z]+')")


def ascii_runs(text: str, table: bytes) -> list[str]:
    """The maximal runs of the characters `table` keeps in ASCII `text`: a regex's matches of one
    character class, found by translating and splitting in C, 5-6 times faster than findall."""
    return text.encode("ascii").translate(table).decode("ascii").split()


# Function words only (articles, pronouns, prepositions, auxiliaries): generic markers of a language.
FUNCTION_WORDS: dict[str, frozenset[str]] = {lang: frozenset(words.split()) for lang, words in {
    "English": "the is and of to what how you a in it for that this are with do i can my me was be not on",
    "French": "le la les est et des un une vous que pour dans moi du en je il elle nous qui pas sur avec",
    "Spanish": "el la los las es y que un una por para con del en se lo como pero su al yo está muy",
    "German": "der die das ist und nicht ich sie ein eine zu mit wie was für auf dem den des sich auch",
    "Portuguese": "o os as é e um uma para com não você do da em se mas seu sua ao pelo",
    "Italian": "il lo gli è di che per con non sono della nel una anche questo come più",
    "Dutch": "de het een is en van niet ik je wat hoe voor met op dat zijn ook maar",
    "Swahili": "ni na wa ya kwa za katika je hii huu hiyo kama lakini sana pia gani nini yake wake zaidi kuwa",
    "Indonesian/Malay": "yang dan di ini itu dengan untuk adalah apa bagaimana saya tidak anda ke dari",
    "Turkish": "ve bir bu da de için ile ne mi çok daha gibi olan",
    "Polish": "nie jest się że na do jak co czy oraz dla przez",
    "Swedish": "och att det som är på för med jag inte av om har",
    "Vietnamese": "và của là có không những được trong cho một này với",
    "Tagalog": "ang ng mga sa na ay at ito ko mo siya",
}.items()}
LANGUAGES_OF: dict[str, tuple[str, ...]] = {}
for _lang, _words in FUNCTION_WORDS.items():
    for _word in _words:
        LANGUAGES_OF[_word] = (*LANGUAGES_OF.get(_word, ()), _lang)
SCRIPT_LANGUAGE = {"CJK": "Chinese", "HIRAGANA": "Japanese", "KATAKANA": "Japanese", "HANGUL": "Korean",
                   "CYRILLIC": "Cyrillic-script (e.g. Russian)", "ARABIC": "Arabic", "DEVANAGARI": "Hindi",
                   "GREEK": "Greek", "HEBREW": "Hebrew", "THAI": "Thai", "BENGALI": "Bengali", "TAMIL": "Tamil",
                   "GEORGIAN": "Georgian", "ARMENIAN": "Armenian", "ETHIOPIC": "Amharic", "GUJARATI": "Gujarati"}

MIX_SHARE = 0.2  # a second script holding a fifth of the letters is a mix, not a borrowed name
MIX_MIN_WORDS = 2  # distinct function words of its own that show a language is present


def words(text: str) -> list[str]:
    """The text's words (letters, with an inner apostrophe)."""
    if not text.isascii():
        return WORD.findall(text)
    return ASCII_WORD.findall(text) if "'" in text and LONE_APOSTROPHE.search(text) else ascii_runs(text, LETTER_BYTES)


@lru_cache(maxsize=8192)
def script_of(ch: str) -> str:
    """The Unicode script of a character, the first word of its name (LATIN, CYRILLIC, CJK...); '' if unnamed."""
    try:
        return unicodedata.name(ch).split(" ")[0]
    except ValueError:
        return ""


def script_counts(text: str) -> dict[str, int]:
    """Letters per Unicode script ('LATIN', 'CYRILLIC', ...) in the text's first 400 characters."""
    head = text[:400]
    if head.isascii():
        return {"LATIN": 1} if head.lower() != head.upper() else {}
    counts: dict[str, int] = {}
    for ch, n in Counter(head).items():  # distinct characters in order of appearance, as do the scripts
        if ch.isalpha():
            name = script_of(ch)
            counts[name] = counts.get(name, 0) + n
    return counts


EXCLUSIVE_OF = {word: langs[0] for word, langs in LANGUAGES_OF.items() if len(langs) == 1 and len(word) >= 2}


def mixed_languages(text: str, tokens: list[str] | None = None, counts: dict[str, int] | None = None) -> list[str]:
    """The languages (or scripts) a code-switched text mixes, most used first; [] for one language.

    Scripts mix when a second script holds at least MIX_SHARE of the letters (kana or hangul with
    Chinese characters is one language). In Latin script a language is present when at least
    MIX_MIN_WORDS distinct function words of its own (in no other language's list) occur and its
    function words are at least MIX_SHARE of all: one borrowed phrase in a long text is no mix.
    """
    counts = script_counts(text) if counts is None else counts
    if len(counts) >= 2:
        own = {name: n for name, n in counts.items() if name not in ("CJK", "HIRAGANA", "KATAKANA", "HANGUL")}
        asian = {name: n for name, n in counts.items() if name not in own}
        if asian:  # kanji with kana is Japanese, hanja with hangul Korean: one language
            name = next((n for n in ("HANGUL", "HIRAGANA", "KATAKANA") if n in asian), "CJK")
            own[name] = sum(asian.values())
        total = sum(own.values())
        major = sorted((name for name, n in own.items() if n >= MIX_SHARE * total), key=lambda name: (-own[name], name))
        if len(major) >= 2:
            latin = detect_language(re.sub(r"[^\x00-\x7f]", " ", text[:400]))
            if latin == "English" and not _english(text):
                latin = "Latin script"
            return [latin if name == "LATIN" else SCRIPT_LANGUAGE.get(name, name.title()) for name in major]
        return []
    tokens = WORD.findall(text[:600].lower()) if tokens is None else tokens
    own_found: dict[str, int] = {}
    for token in EXCLUSIVE_OF.keys() & set(tokens):
        own_found[EXCLUSIVE_OF[token]] = own_found.get(EXCLUSIVE_OF[token], 0) + 1
    if sum(n >= MIX_MIN_WORDS for n in own_found.values()) < 2:
        return []  # fewer than two languages show enough words of their own
    hits: dict[str, int] = {}
    own_words: dict[str, set[str]] = {}
    total = 0
    for token in tokens:
        langs = LANGUAGES_OF.get(token)
        if not langs:
            continue
        total += 1
        for lang in langs:
            hits[lang] = hits.get(lang, 0) + 1
        if token in EXCLUSIVE_OF:
            own_words.setdefault(EXCLUSIVE_OF[token], set()).add(token)
    present = [lang for lang, found in own_words.items() if len(found) >= MIX_MIN_WORDS and hits[lang] >= MIX_SHARE * total]
    return sorted(present, key=lambda lang: (-hits[lang], lang)) if len(present) >= 2 else []


def function_words(low: str) -> list[str]:
    """The words of a lowercased text that are some language's function words, in order: all that the
    language detectors read of it."""
    return list(filter(LANGUAGES_OF.__contains__, words(low)))


def _english(text: str) -> bool:
    return any(token in FUNCTION_WORDS["English"] for token in WORD.findall(text[:400].lower()))


def detect_language(text: str, tokens: list[str] | None = None, counts: dict[str, int] | None = None) -> str:
    """The language with the most function-word hits (Latin script), else the script's language.

    `tokens` (the lowercased words of the first 600 characters, or their function_words) and
    `counts` (script_counts) are passed by a caller that has them."""
    counts = script_counts(text) if counts is None else counts
    main = max(counts, key=counts.__getitem__) if counts else ""
    if not main:
        return "unknown"
    if main != "LATIN":
        return SCRIPT_LANGUAGE.get(main, main.title())
    tokens = WORD.findall(text[:600].lower()) if tokens is None else tokens
    scores = dict.fromkeys(FUNCTION_WORDS, 0)
    for token in tokens:
        for lang in LANGUAGES_OF.get(token, ()):
            scores[lang] += 1
    if "¿" in text or "¡" in text:  # inverted marks are Spanish's own
        scores["Spanish"] += 2
    best = max(scores, key=scores.__getitem__)
    if scores[best] == 0 or scores[best] <= scores["English"]:
        return "English"
    return best
