"""Generic surface detectors: properties of any text's form that name no particular corpus or world.

Script and language, letter case, emoji, punctuation habits, markdown, numbered or lettered
parts, quotes, code and call syntax, math notation, greetings and sign-offs, role-play framing,
question forms, named entities as a class and length. Each detector is a cheap regular
expression or character count, so the offline build stays fast (bench/extract_speed.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import compress

from surfturf.attributes.language import detect_language, function_words, mixed_languages, script_counts, words
from surfturf.attributes.patterns import (
    ANNOTATION, ANSWER_LINE, ARITHMETIC, AUX, BOLD, BULLET, CALL, CALL_OPENING, CODE_ASK_GATE, CODE_LINE, CURLY,
    DASH, DIGIT, ELLIPSIS, EMOJI, EMOTICON, EQUATION, FENCE, FIRST_END, FIRST_PERSON_ROLE, GREETING_GATE,
    HEADING, JSON_OBJECT, LABEL, LAST_SPLIT, LATEX, LETTERED_PART, MADE_BY, MODEL_NUMBER, NARRATIVE_GATE,
    NEGATION_OPENING, NUMBERED_LINE, NUMBERED_PART, PERSONA_GATE, PREMISE_GATE, PROPER, QUANTITY, QUOTED,
    QUOTE_MARKS, REFUSAL_GATE, REPEATED_MARKS, SENTENCE_CAPITAL, SIGN_OFF, SKIP_SUBJECT, TABLE, TOOL_NAME, URL,
    WH, XML_TAG, YEAR, YES_NO,
)

HEAD = 1200  # detectors read the head and tail of long texts: that is where form and framing show
TAIL = 300


def clip(text: str) -> str:
    return text if len(text) <= HEAD + TAIL else text[:HEAD] + "\n" + text[-TAIL:]


def at_lines(text: str) -> str:
    """The string the line patterns (CODE_LINE, LABEL, ...) are searched in: the text after a newline."""
    return "\n" + text


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


@dataclass(slots=True)
class Seen:
    """One text as the detector groups read it, with what several of them share computed once."""

    text: str
    kind: str
    the: str  # "The query" / "The response": every attribute's subject
    low: str
    lines: str  # at_lines(text): line-anchored patterns match its first line too
    digits: bool
    head_words: list[str]  # the head's words, shared by the language, case and register detectors

    @classmethod
    def of(cls, text: str, kind: str) -> Seen:
        text = clip(text)
        return cls(text, kind, f"The {kind}", text.lower(), at_lines(text), bool(DIGIT.search(text)), words(text[:400]))


def describe(text: str, kind: str) -> list[str]:
    """Every surface attribute of `text` ("The <kind> ..."), most specific first, length last."""
    seen = Seen.of(text, kind)
    return [*_language(seen), *_content(seen), *_register(seen), *_layout(seen), *_framing(seen),
            *_mentions(seen), *_punctuation(seen), length(kind, seen.text)]


def _language(t: Seen) -> list[str]:
    """Script and language, or the languages a code-switched text mixes."""
    language_words = function_words(t.low[:600])
    scripts = script_counts(t.text)
    mixed = mixed_languages(t.text, language_words, scripts)
    if len(mixed) >= 2:
        return [f"{t.the} mixes {' and '.join(mixed)}."]
    language = detect_language(t.text, language_words, scripts)
    return [f"{t.the} is written in {language}."] if language not in ("English", "unknown") else []


def _content(t: Seen) -> list[str]:
    """What the text carries: refusals, tool calls, markup, code and call syntax, fields, math."""
    text, the, out = t.text, t.the, []
    if t.kind == "response" and REFUSAL_GATE.search(text[:400], t.low[:400]):
        out.append(f"{the} refuses the request.")
    tool = TOOL_NAME.search(text) if t.kind == "response" and '"' in text else None
    if tool:
        out.append(f"{the} calls a tool ({tool.group(1)}).")
    made = MADE_BY.search(text[:600]) if t.kind == "response" and " by " in text else None
    if made:
        out.append(f"{the} says something was made by {made.group(1)}.")
    out += _marks(text, the, STRUCTURE_MARKS)
    code = has_code(text)
    if code:
        out.append(f"{the} contains a code block with a program." if t.kind == "response" else f"{the} contains source code.")
    elif found_calls := calls(text):
        out.append(f"{the} contains function-call syntax like {found_calls[0]}(...).")
    if t.kind == "query" and not code and CODE_ASK_GATE.search(text[:600], t.low[:600]):
        out.append(f"{the} asks for code or a program.")
    label = LABEL.search(t.lines)
    if label:
        out.append(f"{the} is framed with labelled fields (e.g. '{label.group(1)}:').")
    out += _marks(text, the, ANSWER_MARKS)
    if has_latex(text):
        out.append(f"{the} contains LaTeX math notation.")
    return out


CASE_ATTRIBUTE = {"lowercase": "skips capital letters, a casual lowercase chat style.",
                  "uppercase": "is written in capital letters.", "title": "capitalises every word."}


def _register(t: Seen) -> list[str]:
    """Letter case, vocabulary and persona framing."""
    out = []
    case = letter_case(t.text, t.head_words)
    if case is not None:
        out.append(f"{t.the} {CASE_ATTRIBUTE[case]}")
    if is_formal(t.text, t.head_words):
        out.append(f"{t.the} uses formal, elaborate vocabulary.")
    if PERSONA_GATE.search(t.text[:400], t.low[:400]):
        out.append(f"{t.the} sets up a persona or role-play.")
    elif t.kind == "response" and FIRST_PERSON_ROLE.search(t.text[:200]):
        out.append(f"{t.the} speaks in the first person about who it is.")
    return out


def _layout(t: Seen) -> list[str]:
    """Parts, lists, markdown and emoji."""
    text, the, out = t.text, t.the, []
    parts = numbered_parts(text) if t.digits else 0
    numbered_line = t.digits and bool(NUMBERED_LINE.search(t.lines))
    if parts and (parts == 2 or not numbered_line):
        out.append(f"{the} has {parts} numbered parts (1. ... 2. ...).")
    elif numbered_line:
        out.append(f"{the} uses a numbered list.")
    elif BULLET.search(t.lines):
        out.append(f"{the} uses a bulleted list.")
    if lettered_parts(text):
        out.append(f"{the} has lettered parts (a. ... b. ...).")
    out += _marks(text, the, MARKDOWN_MARKS)
    if "#" in text and HEADING.search(text) and not ANSWER_LINE.search(text):
        out.append(f"{the} uses markdown headings.")
    if (not text.isascii() and EMOJI.search(text)) or (":" in text or ";" in text) and EMOTICON.search(text):
        out.append(f"{the} contains emoji or emoticons.")
    return out


def _framing(t: Seen) -> list[str]:
    """How the text opens and closes, and the stance or question form it takes."""
    text, the, kind, out = t.text, t.the, t.kind, []
    if GREETING_GATE.search(text[:60], t.low[:60]):
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
    if kind == "query" and "how " in t.low and QUANTITY.search(text):
        out.append(f"{the} asks for a number (how many / how much).")
    form = question_form(text) if kind == "query" else None
    if form:
        out.append(f"{the} is a question of the form {form}.")
    return out


def _mentions(t: Seen) -> list[str]:
    """Named entities as a class, years and arithmetic."""
    text, the, out = t.text, t.the, []
    head_digits = t.digits and bool(DIGIT.search(text[:300]))
    if head_digits and MODEL_NUMBER.search(text[:300]):
        out.append(f"{the} mentions a product with a model number.")
    elif PROPER.search(text[:300]):
        out.append(f"{the} mentions a named person, place or organisation.")
    if head_digits and YEAR.search(text[:300]):
        out.append(f"{the} mentions a year.")
    if t.digits and "=" in text and EQUATION.search(text):
        out.append(f"{the} shows arithmetic steps (a + b = c).")
    elif t.digits and ARITHMETIC.search(text):
        out.append(f"{the} contains an arithmetic expression.")
    return out


def _punctuation(t: Seen) -> list[str]:
    """Quotes, links, punctuation habits and how the text ends."""
    text, the, kind, out = t.text, t.the, t.kind, []
    stripped = text.strip()
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
        if stripped.count("?") >= 2:
            out.append(f"{the} asks several questions.")
        out.append(f"{the} is phrased as a question." if stripped.endswith("?") else f"{the} is phrased as an instruction or statement.")
    elif stripped[-1:] not in ".!?)`\"'”" and word_count(stripped, 3) > 3:
        out.append(f"{the} has no final punctuation.")
    return out
