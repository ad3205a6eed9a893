"""The surface detectors' patterns: regular expressions over a text's head and tail, some behind a
cheap literal gate (`Gated`) because most texts hold none of their words."""

from __future__ import annotations

import re


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
