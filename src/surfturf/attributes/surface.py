"""Generic surface detectors: properties of any text's form that name no particular corpus or world.

Script and language, letter case, emoji, punctuation habits, markdown, numbered or lettered
parts, quotes, code and call syntax, math notation, greetings and sign-offs, role-play framing,
question forms, named entities as a class and length. Each detector is a cheap regular
expression or character count, so the offline build stays fast (bench/extract_speed.py).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from functools import lru_cache
from itertools import compress

HEAD = 1200  # detectors read the head and tail of long texts: that is where form and framing show
TAIL = 300

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
EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\U0001F1E6-\U0001F1FF]")
# Patterns that open with a boundary test instead test it just after their first character (an emoticon
# at the start or after a space: `[:;=](?<!\S.)`): a pattern that starts with a character class lets
# the regex engine skip to the candidates, 2-7 times faster, with the same matches. Line patterns start
# with the newline before a line instead of `^` and are searched in "\n" + text (`at_lines`), and
# patterns that start at the text's start or after a space (`(?:^|\s)`) with a whitespace character,
# searched in the same string: each match is the one `^` would give, found at line starts only.
EMOTICON = re.compile(r"[:;=](?<!\S.)[-']?[)(DPp](?=\s|$)")
FENCE = re.compile(r"```")
CODE_LINE = re.compile(r"\n\s*(def |class |import |from \w+ import|return\b|for .+ in |while |if .+:|#include|public |"
                       r"private |function |var |let |const |print\(|console\.|SELECT |INSERT |<\?php|\}|\{$)",
                       re.MULTILINE)
CALL = re.compile(r"(?<![\w.])([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)\((['\"\w\[{][^()\n]{0,120})?\)")
CALL_OPENING = re.compile(r"\((?<=\w\()")  # a word right before "(": every call has one, few texts do
XML_TAG = re.compile(r"<([A-Za-z_][\w-]*)(?:\s[^<>]*)?>.*?</\1\s*>", re.DOTALL)
JSON_OBJECT = re.compile(r"\{\s*\"[\w .-]+\"\s*:")
LATEX = re.compile(r"\\[A-Za-z]{2,}|\$[^$\n]+\$|\\\(|\\\[")
ARITHMETIC = re.compile(r"\d\s*[-+*/×÷^]\s*\d")
EQUATION = re.compile(r"\d\s*[-+*/×÷]\s*\d+(?:\.\d+)?\s*=\s*-?\d")
ANNOTATION = re.compile(r"<<[^<>\n]*=[^<>\n]*>>")
ANSWER_LINE = re.compile(r"^####\s*\S", re.MULTILINE)
HEADING = re.compile(r"^#{1,6}\s+\S", re.MULTILINE)
TABLE = re.compile(r"^\s*\|.*\|\s*$\n^\s*\|?\s*:?-{3,}", re.MULTILINE)
BOLD = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")
BULLET = re.compile(r"\n\s*[-*•]\s+\S")
NUMBERED_LINE = re.compile(r"\n\s*\d+[.)]\s+\S")
# Zero-width edges, so a part right after another's last word ("... 2 + 3. 2. Compute") is found too.
NUMBERED_PART = re.compile(r"(?<=\s)(\d)[.)]\s+(?=\S)")
LETTERED_PART = re.compile(r"(?<=\s)\(?([a-hA-H])[.)]\s+(?=\S)")
QUOTED = re.compile(r"\"[^\"\n]{2,}\"|“[^”\n]{2,}”|'(?<!\w')[^'\n]{2,}'(?!\w)|«[^»\n]{2,}»")
CURLY = re.compile(r"[’‘“”]")
DASH = re.compile(r"—|–| -- ")
REPEATED_MARKS = re.compile(r"[!?]{2,}")
ELLIPSIS = re.compile(r"\.\.\.|…")
# A salutation is set off by punctuation ("Hi! ...", "Dear Ann, ..."); a bare "hey whats" is chat filler.
GREETING = re.compile(r"^\W*(hi|hello|hey|dear \w+|greetings|good (?:morning|afternoon|evening)|howdy|bonjour|hola|hallo|ciao|salut)"
                      r"\s*[,!.:—-]", re.IGNORECASE)
SIGN_OFF = re.compile(r"\b(thanks?|thank you|regards|cheers|best wishes|sincerely|hope (?:this|that|it)|let me know|feel free|"
                      r"happy to help|good luck|enjoy|take care|merci|gracias|danke)\b", re.IGNORECASE)
PERSONA = re.compile(r"\b(you are an? |act as |pretend (?:to be|you are)|imagine (?:you are|you're)|role-?play|in the (?:voice|style) of|"
                     r"as an? [a-z]+ (?:expert|teacher|assistant|character|pirate|detective)|speak like|stay in character)",
                     re.IGNORECASE)
FIRST_PERSON_ROLE = re.compile(r"^\W*(?:(?:I am|I'm|I’m)\s+(?:an?|the)|As an?)\s+\w+", re.MULTILINE)
REFUSAL = re.compile(r"\b(I\s*(?:['’]m| am) sorry,? but|I can(?:not|['’]t) (?:help|assist|provide|comply|do|support|answer|share|give)"
                     r"|I (?:won['’]t|will not) (?:help|provide|assist)|I(?:['’]m| am) (?:not able|unable) to|I must decline"
                     r"|I (?:do not|don['’]t) (?:feel comfortable|think I can))", re.IGNORECASE)
NEGATION_OPENING = re.compile(r"^\W*(no\b|not\b|that(?:['’]s| is) (?:not|incorrect|false|a (?:common )?misconception)|actually\b|"
                              r"contrary to)", re.IGNORECASE)
PREMISE_DENIAL = re.compile(r"\b(?:did not|didn['’]t|never|was not|wasn['’]t|is not|isn['’]t) (?:\w+ ){0,2}\w+|misconception|"
                            r"\b(?:incorrect|not true|not correct|false premise)\b", re.IGNORECASE)
NARRATIVE = re.compile(r"^\W*(once upon|long ago|there (?:once )?(?:was|lived)|in a (?:small|faraway|distant) \w+)"
                       r"|(?:^|[.!?]\s+)the end[.!]\s*$", re.IGNORECASE | re.MULTILINE)
WH = re.compile(r"^\W*(what|who|whom|whose|which|when|where|why|how)\b(?:\s+(\w+))?", re.IGNORECASE)
AUX = frozenset("is are was were do does did can could will would should has have had may might must shall".split())
SKIP_SUBJECT = frozenset("the a an my your his her their our its this that these those".split())
PROPER = re.compile(r" (?<=[a-z,;:] )([A-Z][a-z]+(?: [A-Z][a-z]+)+)\b")
MODEL_NUMBER = re.compile(r"[A-Z](?<!\w.)[a-zA-Z]+(?: [A-Z][a-zA-Z]+)*(?: [A-Z]{0,3}\d{1,4}[A-Za-z]{0,3})\b")
YEAR = re.compile(r"[12](?<!\w.)(?:(?<=1)[0-9]|(?<=2)0)[0-9]{2}\b")  # 1000-2099
QUANTITY = re.compile(r"\bhow (?:many|much)\b", re.IGNORECASE)
MADE_BY = re.compile(r"\b(?:made|created|developed|built|trained|designed) by (?:the team at )?([A-Z][\w-]*(?: [A-Z][\w-]*)*)")
TOOL_NAME = re.compile(r"\"(?:name|function|tool)\"\s*:\s*\"([\w.-]+)\"")
LABEL = re.compile(r"\n\s*([A-Z][\w ]{1,24}):(?:\s|$)", re.MULTILINE)
CODE_ASK = re.compile(r"\b(code|function|program|script|python|javascript|java|c\+\+|sql|implement(?:ation)?|algorithm|"
                      r"class|method|regex|compile|debug|html|css)\b", re.IGNORECASE)
URL = re.compile(r"https?://|www\.")
DIGIT = re.compile(r"\d")
SENTENCE_CAPITAL = re.compile(r"[.!?]\s+[A-Z]")
LAST_SPLIT = re.compile(r"[.!?]\s+")
FIRST_END = re.compile(r"\s(?<=[.!?:]\s)|\n")  # where the first sentence ends: a space after . ! ? or :, or a newline
YES_NO = re.compile(r"\s*(yes|no)\b", re.IGNORECASE)


class Gated:
    """A regex searched only when the lowercased text holds one of its literal needles: most texts
    hold none, and a plain `in` test is far cheaper than a case-insensitive alternation."""

    def __init__(self, pattern: re.Pattern[str], needles: tuple[str, ...]) -> None:
        self.pattern = pattern
        self.needles = needles

    def search(self, text: str, low: str | None = None) -> re.Match[str] | None:
        low = text.lower() if low is None else low
        return self.pattern.search(text) if any(map(low.__contains__, self.needles)) else None


CODE_ASK_GATE = Gated(CODE_ASK, ("code", "function", "program", "script", "python", "java", "c++", "sql", "implement",
                                 "algorithm", "class", "method", "regex", "compile", "debug", "html", "css"))
PERSONA_GATE = Gated(PERSONA, ("you are", "act as", "pretend", "imagine", "role", "in the voice", "in the style", "speak like",
                               "expert", "teacher", "assistant", "character", "pirate", "detective"))
REFUSAL_GATE = Gated(REFUSAL, ("sorry", "cannot", "can't", "can’t", "won't", "won’t", "will not", "able to", "decline",
                               "comfortable", "think i can"))
NARRATIVE_GATE = Gated(NARRATIVE, ("once upon", "long ago", "there ", "in a ", "the end"))
PREMISE_GATE = Gated(PREMISE_DENIAL, ("not", "n't", "n’t", "never", "misconception", "incorrect", "false"))
GREETING_GATE = Gated(GREETING, ("hi", "hello", "hey", "dear", "greetings", "good", "howdy", "bonjour", "hola", "hallo",
                                 "ciao", "salut"))
QUOTE_MARKS = ('"', "'", "“", "«")


def clip(text: str) -> str:
    return text if len(text) <= HEAD + TAIL else text[:HEAD] + "\n" + text[-TAIL:]


def at_lines(text: str) -> str:
    """The string the line patterns (CODE_LINE, LABEL, ...) are searched in: the text after a newline."""
    return "\n" + text


def words(text: str) -> list[str]:
    """The text's words (letters, with an inner apostrophe)."""
    if not text.isascii():
        return WORD.findall(text)
    return ASCII_WORD.findall(text) if "'" in text and LONE_APOSTROPHE.search(text) else ascii_runs(text, LETTER_BYTES)


@lru_cache(maxsize=8192)
def _script(ch: str) -> str:
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
            name = _script(ch)
            counts[name] = counts.get(name, 0) + n
    return counts


def script(text: str) -> str:
    """The Unicode script most letters belong to ('LATIN', 'CYRILLIC', ...), '' without letters."""
    counts = script_counts(text)
    return max(counts, key=counts.__getitem__) if counts else ""


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


def letter_case(text: str, tokens: list[str] | None = None) -> str | None:
    """'lowercase' (sentences start in lowercase), 'uppercase' or 'title' when the text is written so;
    `tokens`: the words of the text's head, when the caller has them."""
    lowered, raised = text.lower(), text.upper()
    if lowered == raised or sum(map(str.isalpha, text[:40])) <= 8:
        return None
    first = next((c for c in text[:40] if c.isalpha()), "")
    if text == lowered or (first.islower() and not SENTENCE_CAPITAL.search(text[:400])):
        return "lowercase"  # no capital at any sentence start; names may keep theirs
    if text == raised and len(text) > 15:
        return "uppercase"
    tokens = words(text[:300]) if tokens is None else tokens
    if len(tokens) >= 4 and all(t[:1].isupper() for t in tokens):
        return "title"
    return None


def long_word_share(text: str, tokens: list[str] | None = None) -> tuple[int, float]:
    """Long (9+ letter) words, names aside, and their share of all words: a register signal."""
    tokens = words(text[:400]) if tokens is None else tokens
    long_words = compress(tokens, map((9).__le__, map(len, tokens)))  # picked out without a Python loop
    first_is_name = bool(tokens) and len(tokens[0]) >= 9 and tokens[0][0].isupper()  # a first word counts anyway
    long = sum(1 for t in long_words if not t[0].isupper()) + first_is_name
    return long, long / max(len(tokens), 1)


def is_formal(text: str, tokens: list[str] | None = None) -> bool:
    """Elaborate register: several long words, or long words dense among few."""
    long, share = long_word_share(text, tokens)
    return long >= 3 or (long >= 2 and share >= 0.15)


def has_code(text: str) -> bool:
    """Fenced code, or several lines that look like program statements."""
    return bool(FENCE.search(text)) or len(CODE_LINE.findall(at_lines(text))) >= 2


def has_latex(text: str) -> bool:
    return ("\\" in text or "$" in text) and bool(LATEX.search(text))


def calls(text: str) -> list[str]:
    """Names written with call syntax, `name(...)`, with arguments (quoted, named or empty)."""
    found: list[str] = []
    if "(" not in text or not CALL_OPENING.search(text):
        return found
    for match in CALL.finditer(text):
        name = match.group(1)
        if len(name) > 1 and name not in found:
            found.append(name)
    return found


def _has_parts(text: str, first: str, second: str) -> bool:
    """Whether parts `first` and `second` ("1", "2" or "a", "b") can both be there: a cheap gate."""
    return (first + "." in text or first + ")" in text) and (second + "." in text or second + ")" in text)


def numbered_parts(text: str) -> int:
    """How many consecutive numbered parts (1. 2. 3.) the text has, inline or on lines."""
    if not _has_parts(text, "1", "2"):
        return 0
    digits = [int(d) for d in NUMBERED_PART.findall(at_lines(text))]
    n = 0
    for d in digits:
        if d == n + 1:
            n = d
    return n if n >= 2 else 0


def lettered_parts(text: str) -> int:
    """How many consecutive lettered parts (a. b. c.) the text has."""
    if not (_has_parts(text, "a", "b") or _has_parts(text, "A", "B")):
        return 0
    letters = [c.lower() for c in LETTERED_PART.findall(at_lines(text))]
    n = 0
    for c in letters:
        if ord(c) - ord("a") == n:
            n += 1
    return n if n >= 2 else 0


def question_form(text: str) -> str | None:
    """The shape of a wh-question: 'When did ... <verb>', from its opening words."""
    match = WH.match(text)
    if not match:
        return None
    wh, nxt = match.group(1).lower(), (match.group(2) or "").lower()
    if nxt not in AUX:
        return f"'{wh.capitalize()} {nxt} ...'" if nxt else f"'{wh.capitalize()} ...'"
    rest = words(text[match.end():match.end() + 120])
    for token in rest:
        if token.lower() in SKIP_SUBJECT or token[:1].isupper():
            continue
        return f"'{wh.capitalize()} {nxt} ... {token.lower()} ...'"
    return f"'{wh.capitalize()} {nxt} ...'"


def last_sentence(text: str) -> str:
    line = text.strip()[-300:].rsplit("\n", 1)[-1]  # the last line, then its last sentence
    ends = [m.end() for m in LAST_SPLIT.finditer(line)] if any(map(line.__contains__, ".!?")) else []
    return line[ends[-1]:].strip() if ends else line.strip()


def first_sentence(text: str) -> str:
    head = text.strip()[:300]
    end = FIRST_END.search(head)
    return (head[:end.start()] if end else head).strip()


# (substrings one of which must occur, pattern, attribute): cheap substring tests skip most regexes.
Mark = tuple[tuple[str, ...], re.Pattern[str], str]
STRUCTURE_MARKS: tuple[Mark, ...] = ((("</",), XML_TAG, "contains markup tags like <tag>...</tag>."),
                                     (("{",), JSON_OBJECT, "contains a JSON object."))
ANSWER_MARKS: tuple[Mark, ...] = ((("<<",), ANNOTATION, "contains calculator annotations like <<a*b=c>>."),
                                  (("####",), ANSWER_LINE, "ends with a final answer line '#### N'."))
MARKDOWN_MARKS: tuple[Mark, ...] = ((("|",), TABLE, "contains a markdown table."),
                                    (("**", "__"), BOLD, "uses bold text."))
HABIT_MARKS: tuple[Mark, ...] = ((("http", "www."), URL, "contains a link."),
                                 (("!!", "??", "?!", "!?"), REPEATED_MARKS, "uses repeated exclamation or question marks."))


def _marks(text: str, the: str, marks: tuple[Mark, ...]) -> list[str]:
    found = []
    for needles, pattern, attribute in marks:
        for needle in needles:
            if needle in text:
                if pattern.search(text):
                    found.append(f"{the} {attribute}")
                break
    return found


def word_count(text: str, cap: int) -> int:
    """The number of words in `text`, or cap + 1 if there are more: thresholds need no more, and
    splitting stops there."""
    return len(text.split(None, cap))


def length(kind: str, text: str) -> str:
    n = word_count(text, 151)
    if n <= 5:
        return f"The {kind} is very short (under 6 words)."
    if n <= 25:
        return f"The {kind} is short (under 26 words)."
    if n <= 150:
        return f"The {kind} is of medium length."
    return f"The {kind} is long (over 150 words)."


def describe(text: str, kind: str) -> list[str]:
    """Every surface attribute of `text` ("The <kind> ..."), most specific first, length last."""
    text = clip(text)
    the = f"The {kind}"
    out: list[str] = []
    stripped = text.strip()
    low = text.lower()
    head_words = words(text[:400])  # the head's words, shared by the language, case and register detectors
    language_words = function_words(low[:600])
    scripts = script_counts(text)
    mixed = mixed_languages(text, language_words, scripts)
    language = detect_language(text, language_words, scripts)
    if len(mixed) >= 2:
        out.append(f"{the} mixes {' and '.join(mixed)}.")
    elif language not in ("English", "unknown"):
        out.append(f"{the} is written in {language}.")
    if kind == "response" and REFUSAL_GATE.search(text[:400], low[:400]):
        out.append(f"{the} refuses the request.")
    tool = TOOL_NAME.search(text) if kind == "response" and '"' in text else None
    if tool:
        out.append(f"{the} calls a tool ({tool.group(1)}).")
    made = MADE_BY.search(text[:600]) if kind == "response" and " by " in text else None
    if made:
        out.append(f"{the} says something was made by {made.group(1)}.")
    out += _marks(text, the, STRUCTURE_MARKS)
    code = has_code(text)
    if code:
        out.append(f"{the} contains a code block with a program." if kind == "response" else f"{the} contains source code.")
    elif found_calls := calls(text):
        out.append(f"{the} contains function-call syntax like {found_calls[0]}(...).")
    if kind == "query" and not code and CODE_ASK_GATE.search(text[:600], low[:600]):
        out.append(f"{the} asks for code or a program.")
    lines = at_lines(text)
    label = LABEL.search(lines)
    if label:
        out.append(f"{the} is framed with labelled fields (e.g. '{label.group(1)}:').")
    out += _marks(text, the, ANSWER_MARKS)
    if has_latex(text):
        out.append(f"{the} contains LaTeX math notation.")
    case = letter_case(text, head_words)
    if case == "lowercase":
        out.append(f"{the} skips capital letters, a casual lowercase chat style.")
    elif case == "uppercase":
        out.append(f"{the} is written in capital letters.")
    elif case == "title":
        out.append(f"{the} capitalises every word.")
    if is_formal(text, head_words):
        out.append(f"{the} uses formal, elaborate vocabulary.")
    if PERSONA_GATE.search(text[:400], low[:400]):
        out.append(f"{the} sets up a persona or role-play.")
    elif kind == "response" and FIRST_PERSON_ROLE.search(text[:200]):
        out.append(f"{the} speaks in the first person about who it is.")
    digits = bool(DIGIT.search(text))
    parts = numbered_parts(text) if digits else 0
    numbered_line = digits and bool(NUMBERED_LINE.search(lines))
    if parts and (parts == 2 or not numbered_line):
        out.append(f"{the} has {parts} numbered parts (1. ... 2. ...).")
    elif numbered_line:
        out.append(f"{the} uses a numbered list.")
    elif BULLET.search(lines):
        out.append(f"{the} uses a bulleted list.")
    if lettered_parts(text):
        out.append(f"{the} has lettered parts (a. ... b. ...).")
    out += _marks(text, the, MARKDOWN_MARKS)
    if "#" in text and HEADING.search(text) and not ANSWER_LINE.search(text):
        out.append(f"{the} uses markdown headings.")
    if (not text.isascii() and EMOJI.search(text)) or (":" in text or ";" in text) and EMOTICON.search(text):
        out.append(f"{the} contains emoji or emoticons.")
    if GREETING_GATE.search(text[:60], low[:60]):
        out.append(f"{the} opens with a greeting.")
    closing = last_sentence(text)
    if kind == "response" and closing and word_count(closing, 12) <= 12 and SIGN_OFF.search(closing):
        out.append(f"{the} ends with a sign-off ('{closing}').")
    elif kind == "query" and closing and word_count(closing, 6) <= 6 and SIGN_OFF.search(closing):
        out.append(f"{the} ends with a thank-you or sign-off.")
    if kind == "response" and NARRATIVE_GATE.search(text[:300] + "\n" + text[-60:]):
        out.append(f"{the} tells a story.")
    if kind == "response" and (NEGATION_OPENING.match(text) or PREMISE_GATE.search(first_sentence(text)[:200])):
        out.append(f"{the} contradicts the premise, saying the claim is false.")
    if kind == "query" and "how " in low and QUANTITY.search(text):
        out.append(f"{the} asks for a number (how many / how much).")
    if kind == "query":
        form = question_form(text)
        if form:
            out.append(f"{the} is a question of the form {form}.")
    head_digits = digits and bool(DIGIT.search(text[:300]))
    if head_digits and MODEL_NUMBER.search(text[:300]):
        out.append(f"{the} mentions a product with a model number.")
    elif PROPER.search(text[:300]):
        out.append(f"{the} mentions a named person, place or organisation.")
    if head_digits and YEAR.search(text[:300]):
        out.append(f"{the} mentions a year.")
    if digits and "=" in text and EQUATION.search(text):
        out.append(f"{the} shows arithmetic steps (a + b = c).")
    elif digits and ARITHMETIC.search(text):
        out.append(f"{the} contains an arithmetic expression.")
    quote_head = text[:600]
    if any(map(quote_head.__contains__, QUOTE_MARKS)) and QUOTED.search(quote_head):
        out.append(f"{the} contains a quotation.")
    out += _marks(text, the, HABIT_MARKS)
    if not text.isascii() and CURLY.search(text):
        out.append(f"{the} uses curly quotes or apostrophes.")
    if ("..." in text or not text.isascii() or " -- " in text) and (ELLIPSIS.search(text) or DASH.search(text)):
        out.append(f"{the} uses ellipses or dashes.")
    if kind == "response" and YES_NO.match(text):
        out.append(f"{the} begins with a yes/no answer.")
    if kind == "response" and stripped.endswith("?"):
        out.append(f"{the} asks the user a question back.")
    if kind == "response" and word_count(stripped, 5) <= 5:
        out.append(f"{the} answers in a single word or short phrase.")
    if kind == "query":
        questions = stripped.count("?")
        if questions >= 2:
            out.append(f"{the} asks several questions.")
        out.append(f"{the} is phrased as a question." if stripped.endswith("?") else f"{the} is phrased as an instruction or statement.")
    elif stripped[-1:] not in ".!?)`\"'”" and word_count(stripped, 3) > 3:
        out.append(f"{the} has no final punctuation.")
    out.append(length(kind, text))
    return out
