"""Non-semantic transforms that inject a suspected surface cue into a prompt (steered score).

Each transform keeps what the prompt asks and changes only its surface: LaTeX in the math,
data-extraction framing, formal vocabulary, a two-part "1./2." layout, another language
(model-based, through the perturber role), or a user template. Names are what `--transform`
accepts: `latex`, `extraction`, `formal`, `two-part`, `translate[:LANGUAGE]`, `template:FILE`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from surfturf.errors import UserError

# ---------------------------------------------------------------- LaTeX injection into math

_FUNCTION = re.compile(r"\b(sqrt|sin|cos|tan|log|ln|exp)\s*\(([^()]*)\)", re.IGNORECASE)
_POWER_WORDS = ((re.compile(r"\s+squared\b", re.IGNORECASE), "^2"), (re.compile(r"\s+cubed\b", re.IGNORECASE), "^3"))
_COMMAND = r"\\[a-z]+(?:\{[^{}]*\}|\([^()]*\))"
_OPERAND = rf"(?:\d+(?:\.\d+)?[a-zA-Z]?(?![a-zA-Z])|[a-zA-Z](?![a-zA-Z])|{_COMMAND}|\([^()]*\))"
_OPERATOR = r"(?:<=|>=|!=|[-+*/^=<>×÷·])"
_EXPRESSION = re.compile(rf"(?<![\w$\\])(?:{_OPERAND}(?:\s*{_OPERATOR}\s*{_OPERAND})+|{_COMMAND})(?![\w$])")
_NUMBER = re.compile(r"(?<![\w$.\\{])(\d+(?:\.\d+)?)(?![\w$}])(?!\.\d)")
_FRACTION = re.compile(r"(\d+|[a-zA-Z]|\([^()]*\))\s*/\s*(\d+|[a-zA-Z]|\([^()]*\))")
_SYMBOLS = {"<=": r"\leq", ">=": r"\geq", "!=": r"\neq", "*": r"\times", "×": r"\times", "÷": r"\div", "·": r"\cdot"}


def _latex_expression(expression: str) -> str:
    """One plain-text expression in LaTeX: fractions, powers, products and relations."""
    text = _FRACTION.sub(lambda m: rf"\frac{{{m.group(1).strip('()')}}}{{{m.group(2).strip('()')}}}", expression)
    text = re.sub(r"\^\s*(\d+|[a-zA-Z]|\([^()]*\))", lambda m: "^{" + m.group(1).strip("()") + "}", text)
    for plain, latex in _SYMBOLS.items():
        text = text.replace(plain, f" {latex} ")
    text = re.sub(r"\s*([-+=<>])\s*", r" \1 ", text)
    return re.sub(r"\s+", " ", text).strip()


_MATH_SPAN = re.compile(r"(\$\$.*?\$\$|\$[^$]*\$|\\\(.*?\\\))", re.DOTALL)


def inject_latex(query: str) -> str:
    """Typeset the math in a prompt as inline LaTeX (`$\\frac{3}{4} \\times x^{2}$`).

    Expressions (operands joined by operators), function calls and bare numbers become `$...$`;
    prose and math already in LaTeX are untouched, so the prompt asks the same thing with a
    LaTeX surface.
    """
    return "".join(part if _MATH_SPAN.fullmatch(part) else _typeset(part) for part in _MATH_SPAN.split(query))


def _typeset(text: str) -> str:
    """LaTeX for the math in a stretch of plain text."""
    for pattern, power in _POWER_WORDS:
        text = pattern.sub(power, text)
    text = _FUNCTION.sub(lambda m: rf"\{m.group(1).lower()}{{{m.group(2).strip()}}}" if m.group(1).lower() == "sqrt"
                         else rf"\{m.group(1).lower()}({m.group(2).strip()})", text)
    pieces: list[str] = []
    last = 0
    for match in _EXPRESSION.finditer(text):
        pieces.append(_wrap_numbers(text[last : match.start()]))
        pieces.append(f"${_latex_expression(match.group(0))}$")
        last = match.end()
    pieces.append(_wrap_numbers(text[last:]))
    return "".join(pieces)


def _wrap_numbers(prose: str) -> str:
    return _NUMBER.sub(lambda m: f"${m.group(1)}$", prose)


# ---------------------------------------------------------------- data-extraction framing

EXTRACTION_TEMPLATE = (
    "You will be shown a passage. Read it and respond to the request it contains.\n\n"
    "Context: {query}\n\n"
    "Answer:"
)


def extraction_framing(query: str) -> str:
    """Wrap the prompt in the framing of data-extraction datasets ("You will be shown...", "Context:")."""
    return EXTRACTION_TEMPLATE.replace("{query}", query.strip())


# ---------------------------------------------------------------- formal vocabulary

FORMAL_WORDS: dict[str, str] = {
    # phrases first (longest match wins, see _FORMAL_PATTERN)
    "tell me about": "elucidate",
    "find out": "ascertain",
    "figure out": "ascertain",
    "look at": "examine",
    "looks at": "examines",
    "look into": "investigate",
    "a lot of": "a considerable amount of",
    "lots of": "numerous",
    "set up": "establish",
    "get rid of": "eliminate",
    "make sure": "ensure",
    "go over": "review",
    "point out": "indicate",
    "come up with": "devise",
    "carry out": "execute",
    "kind of": "somewhat",
    "because of": "owing to",
    "so that": "in order that",
    "how come": "for what reason",
    # single words
    "explain": "elucidate",
    "explains": "elucidates",
    "explained": "elucidated",
    "describe": "delineate",
    "describes": "delineates",
    "show": "demonstrate",
    "shows": "demonstrates",
    "use": "utilize",
    "uses": "utilizes",
    "using": "utilizing",
    "used": "utilized",
    "help": "assist",
    "helps": "assists",
    "helping": "assisting",
    "about": "regarding",
    "get": "obtain",
    "gets": "obtains",
    "got": "obtained",
    "need": "require",
    "needs": "requires",
    "start": "commence",
    "starts": "commences",
    "begin": "commence",
    "end": "conclude",
    "ends": "concludes",
    "buy": "purchase",
    "tell": "inform",
    "think": "contemplate",
    "ask": "inquire",
    "try": "endeavour",
    "tries": "endeavours",
    "enough": "sufficient",
    "but": "however",
    "so": "consequently",
    "also": "furthermore",
    "give": "provide",
    "gives": "provides",
    "make": "construct",
    "makes": "constructs",
    "big": "substantial",
    "huge": "immense",
    "small": "diminutive",
    "good": "favourable",
    "bad": "detrimental",
    "important": "paramount",
    "main": "principal",
    "many": "numerous",
    "whole": "entire",
    "idea": "notion",
    "ideas": "notions",
    "way": "manner",
    "ways": "manners",
    "job": "occupation",
    "meaning": "significance",
    "why": "for what reason",
    "keep": "maintain",
    "fix": "rectify",
    "change": "modify",
    "changes": "modifications",
    "check": "verify",
    "build": "construct",
    "enjoy": "appreciate",
    "understand": "comprehend",
    "think about": "contemplate",
    "please": "kindly",
    "like": "such as",
    "maybe": "perhaps",
    "right now": "presently",
    "now": "presently",
    "soon": "imminently",
    "thing": "matter",
    "things": "matters",
    "stuff": "material",
    "very": "exceedingly",
    "really": "genuinely",
    "pretty": "rather",
    "okay": "acceptable",
    "ok": "acceptable",
    "whether": "whether or not",
}

_FORMAL_PATTERN = re.compile(
    r"\b(" + "|".join(re.escape(key) for key in sorted(FORMAL_WORDS, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


def _match_case(source: str, replacement: str) -> str:
    if source.isupper() and len(source) > 1:
        return replacement.upper()
    if source[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


_TOPIC_REQUEST = re.compile(
    r"^(\s*)(?:explain|describe|discuss|tell me about)\s+"
    r"(?!(?:what|how|why|when|where|which|who|whether|if|that|to|me|your|my)\b)",
    re.IGNORECASE,
)


def formal_vocabulary(query: str) -> str:
    """Rewrite everyday words as their formal equivalents ("explain" -> "elucidate"), keeping case.

    A request about a topic ("Explain peace.") becomes "Elucidate the notion of peace.", the
    register of the paper's example ("Elucidate the concept of peace").
    """
    query = _TOPIC_REQUEST.sub(r"\1Elucidate the notion of ", query, count=1)
    return _FORMAL_PATTERN.sub(lambda m: _match_case(m.group(0), FORMAL_WORDS[m.group(0).lower()]), query)


# ---------------------------------------------------------------- two-part "1./2." split

_SENTENCE = re.compile(r"(?<=[.?!])\s+(?=[A-Z0-9\"'(])")
_CLAUSE = re.compile(r",?\s+and\s+(?=(?:what|how|why|when|where|which|who|is|are|can|do|does|then|also)\b)", re.IGNORECASE)


def two_part(query: str) -> str:
    """Lay the prompt out as a two-part question: "1. <first part>\\n2. <second part>".

    Splits between sentences, else at an "and" joining two questions; a single indivisible
    question becomes part 1 with "Explain your answer." as part 2.
    """
    text = " ".join(query.split())
    sentences = _SENTENCE.split(text)
    if len(sentences) >= 2:
        middle = (len(sentences) + 1) // 2
        first, second = " ".join(sentences[:middle]), " ".join(sentences[middle:])
    else:
        clause = _CLAUSE.search(text)
        if clause and len(text[: clause.start()].split()) >= 3 and len(text[clause.end():].split()) >= 2:
            first = text[: clause.start()].rstrip(",;") + ("?" if text.endswith("?") else ".")
            second = text[clause.end():]
            second = second[:1].upper() + second[1:]
        else:
            first, second = text, "Explain your answer."
    return f"1. {first}\n2. {second}"


# ---------------------------------------------------------------- model-based and templated

TRANSLATE_INSTRUCTION = (
    "Translate the query into {language}. Keep its meaning, numbers, names and formatting; "
    "write only the translated query."
)


def translate_instruction(language: str) -> str:
    """The perturber instruction for a translation (the offline world keys on its first words)."""
    return TRANSLATE_INSTRUCTION.format(language=language)


def apply_template(template: str, query: str) -> str:
    """Put the query into a user template at `{query}` (plain replacement, so LaTeX braces survive)."""
    return template.replace("{query}", query)


# ---------------------------------------------------------------- registry

LOCAL_TRANSFORMS: dict[str, Callable[[str], str]] = {
    "latex": inject_latex,
    "extraction": extraction_framing,
    "formal": formal_vocabulary,
    "two-part": two_part,
}
DEFAULT_LANGUAGE = "Malay"


@dataclass(frozen=True)
class Transform:
    """A resolved `--transform`: either a local function or a perturber instruction."""

    name: str
    local: Callable[[str], str] | None = None
    instruction: str | None = None

    @property
    def needs_model(self) -> bool:
        return self.instruction is not None


def resolve_transform(spec: str) -> Transform:
    """Parse a `--transform` value into a `Transform`; unknown names are a `UserError`."""
    name, _, argument = spec.partition(":")
    name = name.strip().lower()
    if name in LOCAL_TRANSFORMS and not argument:
        return Transform(name=name, local=LOCAL_TRANSFORMS[name])
    if name == "translate":
        language = argument.strip() or DEFAULT_LANGUAGE
        return Transform(name=f"translate:{language}", instruction=translate_instruction(language))
    if name == "template":
        path = Path(argument)
        if not argument or not path.is_file():
            raise UserError(f"template file not found: {argument!r}", "use --transform template:FILE, FILE holding {query}")
        template = path.read_text(encoding="utf-8")
        if "{query}" not in template:
            raise UserError(f"template {path} has no {{query}} placeholder", "put {query} where the prompt goes")
        return Transform(name=f"template:{path.name}", local=lambda query: apply_template(template, query))
    known = ", ".join([*LOCAL_TRANSFORMS, "translate[:LANGUAGE]", "template:FILE"])
    raise UserError(f"unknown transform {spec!r}", f"use one of {known}")
