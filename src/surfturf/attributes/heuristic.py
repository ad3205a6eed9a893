"""An offline, deterministic attribute extractor: up to 10 descriptive sentences per query or response.

It stands in for the LLM extractor when no model is available (tests, the offline world) and
works on real SFT data: language and script, LaTeX, code, register, question forms, numbered
structure, length, lists, tool calls, refusals, calculator annotations, fixed framings, product
and AI model names. The detector functions are public so offline judges can reuse them.
"""

from __future__ import annotations

import re
import unicodedata

WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
STOPWORDS: dict[str, set[str]] = {
    "English": {"the", "is", "and", "of", "to", "what", "how", "you", "a", "in", "it", "for", "that", "this", "are", "with", "do", "i", "can", "my", "me"},
    "French": {"le", "la", "les", "est", "et", "de", "des", "un", "une", "vous", "que", "pour", "dans", "pouvez", "moi", "du", "en"},
    "Spanish": {"el", "la", "los", "las", "es", "y", "de", "que", "un", "una", "por", "para", "con", "puedes", "del", "en", "cómo", "qué"},
    "German": {"der", "die", "das", "ist", "und", "nicht", "ich", "sie", "ein", "eine", "zu", "mit", "wie", "was", "für"},
    "Portuguese": {"o", "os", "as", "é", "e", "de", "que", "um", "uma", "para", "com", "não", "você", "do", "da"},
    "Italian": {"il", "lo", "gli", "è", "e", "di", "che", "un", "una", "per", "con", "non", "sono", "della"},
    "Swahili": {"ni", "na", "wa", "ya", "kwa", "za", "katika", "je", "hii", "kuhusu", "eleza", "nini", "gani", "tafadhali", "unaweza", "kueleza", "dhana", "undani", "wako", "jinsi", "elezea", "nieleze", "kina", "ndiyo", "mji", "mkuu", "unajua", "jibu", "swali", "hili"},
    "Indonesian/Malay": {"yang", "dan", "di", "ini", "itu", "dengan", "untuk", "adalah", "apa", "bagaimana", "saya", "tidak", "anda", "ke", "dari"},
    "Dutch": {"de", "het", "een", "is", "en", "van", "niet", "ik", "je", "wat", "hoe", "voor", "met"},
}
FORMAL_WORDS = {
    "elucidate", "expound", "delineate", "delineating", "explicate", "ascertain", "furnish", "devise", "formulate",
    "kindly", "henceforth", "aforementioned", "pertaining", "endeavour", "endeavor", "utilise", "utilize",
    "utilising", "utilizing", "commence", "articulate", "meticulous", "thereof", "whereby", "exposition",
    "notion", "tenets", "rigour", "rigor", "facets", "principal", "methodology", "most grateful", "heretofore",
    "notwithstanding", "subsequently", "elaborate", "comprehensive", "paradigm", "salient", "efficacious",
}
CASUAL_WORDS = {"hey", "yo", "lol", "omg", "u", "ur", "whats", "gonna", "wanna", "pls", "plz", "thx", "idk", "q", "btw", "kinda", "sup"}
AI_MODELS = ("ChatGPT", "GPT-4", "GPT-3", "GPT", "Claude", "Gemini", "Bard", "Llama", "Mistral", "Grok", "Qwen",
             "Copilot", "DeepSeek", "Nimbus", "Alexa", "Siri")
HARM_WORDS = {"weapon", "bomb", "poison", "hack", "steal", "phishing", "counterfeit", "forge", "stalk", "kill",
              "break into", "explosive", "launder", "drugs", "malware", "ransomware"}
REFUSAL = re.compile(
    r"\b(I\s*(?:'m| am) sorry,? but I can(?:no|')t|I can(?:no|')t (?:help|assist|provide|comply|do that)|I (?:won't|will not) "
    r"(?:help|provide)|I'm (?:not able|unable) to|I am (?:not able|unable) to|I must decline|I cannot fulfill|as an AI)",
    re.IGNORECASE)
REBUTTAL = re.compile(
    r"\b(did not|didn't|never) (?:invent|create|discover|say|write)|misconception|\bis (?:incorrect|not correct|false|not true)\b"
    r"|\bthat(?:'s| is) not (?:true|correct|right)\b|\bactually,|\bcontrary to\b|^no[,.]", re.IGNORECASE | re.MULTILINE)
STOCK_CLOSINGS = ("I hope it is correct", "I hope this helps", "Hope this helps", "Let me know if you have any other questions",
                  "Let me know if you need anything else", "I hope that helps", "Feel free to ask")
STORY = re.compile(r"\b(once upon a time|long,? long ago|lived happily ever after|in a (?:small|faraway|distant) (?:village|land|kingdom))"
                   r"|(?:^|[.!?]\s+)the end[.!]\s*$", re.IGNORECASE)
TOOL_CALL = re.compile(r"<tool_call>|\"(?:name|function)\"\s*:\s*\"[\w.]+\"\s*,\s*\"arguments\"|<function_call>|\bcall the \w+ tool\b",
                       re.IGNORECASE)
PRODUCT = re.compile(r"\b((?:[A-Z][a-zA-Z]+|i[A-Z][a-z]+)(?: [A-Z][a-zA-Z]+)*(?: [A-Z]{0,2}\d{1,4}[A-Za-z]{0,3}))\b")
MADE_BY = re.compile(r"\b(?:made|created|developed|built|trained|designed) by (?:the team at )?([A-Z][\w-]*(?: [A-Z][\w-]*)*)")
CODE_ASK = re.compile(r"\b(code|function|program|script|python|javascript|java|c\+\+|sql|implement|implementation|algorithm|"
                      r"class|method|regex|compile|debug|routine|html|css)\b", re.IGNORECASE)
EXPLAIN_ASK = re.compile(r"\b(explain|describe|tell me about|overview|elucidate|expound|explicate|delineate|what is|why|articulate|"
                         r"significance of|essence of|notion of|meaning of|"
                         r"help me understand|exposition|eleza|elezea|nieleze|kueleza|expliquez|décrire|parlez|explica|describir|háblame|"
                         r"erkläre|beschreibe|spiega|explique)\b", re.IGNORECASE)


MONTHS = {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
NOT_NAMES = {"What", "How", "Is", "The", "On", "In", "At", "For", "From", "To", "By", "Compute", "Answer", "Question",
             "Chapter", "Step", "Part", "Section", "Page", "Table", "Figure", "Level", "Grade", "Class", "Room", "Version"}


def words(text: str) -> list[str]:
    return WORD.findall(text)


def detect_language(text: str) -> str:
    """The most likely language by stopword hits (Latin-script languages), or the script's name."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "unknown"
    scripts: dict[str, int] = {}
    for ch in letters[:400]:
        try:
            name = unicodedata.name(ch).split(" ")[0]
        except ValueError:
            continue
        scripts[name] = scripts.get(name, 0) + 1
    main_script = max(scripts, key=scripts.get) if scripts else "LATIN"
    if main_script != "LATIN":
        return {"CJK": "Chinese", "HIRAGANA": "Japanese", "KATAKANA": "Japanese", "HANGUL": "Korean",
                "CYRILLIC": "Cyrillic-script (e.g. Russian)", "ARABIC": "Arabic", "DEVANAGARI": "Hindi",
                "GREEK": "Greek", "HEBREW": "Hebrew", "THAI": "Thai"}.get(main_script, main_script.title())
    tokens = [w.lower() for w in words(text)]
    scores = {lang: sum(1 for t in tokens if t in stop) for lang, stop in STOPWORDS.items()}
    best = max(scores, key=scores.get)
    if scores[best] == 0 or scores[best] <= scores["English"]:
        return "English"
    return best


def has_latex(text: str) -> bool:
    return bool(re.search(r"\\[A-Za-z]+|\$[^$\n]+\$|\\\(|\\\[", text))


def has_code(text: str) -> bool:
    """Fenced code, or several lines that look like program statements."""
    if "```" in text:
        return True
    lines = text.splitlines()
    code_like = sum(1 for line in lines if re.match(r"\s*(def |class |import |return |for .* in |if .*:|#include|public |function |var |let |const |print\(|SELECT )", line))
    return code_like >= 2


def has_tool_call(text: str) -> bool:
    return bool(TOOL_CALL.search(text))


def is_refusal(text: str) -> bool:
    return bool(REFUSAL.search(text[:400]))


def is_rebuttal(text: str) -> bool:
    return bool(REBUTTAL.search(text[:500]))


def is_story(text: str) -> bool:
    return bool(STORY.search(text))


def stock_closing(text: str) -> str | None:
    """The stock closing phrase the text ends with, if any."""
    tail = text.strip()[-120:].lower()
    for phrase in STOCK_CLOSINGS:
        if phrase.lower() in tail:
            return phrase
    return None


def formal_words(text: str) -> list[str]:
    low = text.lower()
    return sorted({w for w in FORMAL_WORDS if re.search(rf"\b{re.escape(w)}\b", low)})


def is_casual(text: str) -> bool:
    """Chat-style writing: no capitals and no end punctuation, or slang words."""
    letters = [c for c in text if c.isalpha()]
    tokens = {w.lower() for w in words(text)}
    lowercase = bool(letters) and not any(c.isupper() for c in letters)
    return (lowercase and len(letters) > 8) or len(tokens & CASUAL_WORDS) >= 2


def is_two_part(text: str) -> bool:
    return bool(re.search(r"(^|\s)1[.)]\s.+(^|\s)2[.)]\s", text, re.DOTALL))


def asks_for_code(text: str) -> bool:
    return bool(CODE_ASK.search(text))


def asks_for_explanation(text: str) -> bool:
    return bool(EXPLAIN_ASK.search(text))


def mentions_harm(text: str) -> bool:
    low = text.lower()
    return any(re.search(rf"\b{re.escape(w)}", low) for w in HARM_WORDS)


def ai_model_named(text: str) -> str | None:
    for name in AI_MODELS:
        if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text):
            return name
    return None


def product_names(text: str) -> list[str]:
    """Capitalised names ending in a model number ("Zephyr X9", "Pixel Watch 2", "iPhone 13")."""
    names = []
    for match in PRODUCT.finditer(text):
        name = match.group(1)
        parts = name.split()
        while parts and parts[0] in NOT_NAMES:
            parts = parts[1:]
        name = " ".join(parts)
        if len(parts) >= 2 and not set(parts) & MONTHS and name not in names:
            names.append(name)
    return names


def _length(kind: str, text: str) -> str:
    n = len(text.split())
    if n <= 5:
        return f"The {kind} is very short (under 6 words)."
    if n <= 25:
        return f"The {kind} is short (under 26 words)."
    if n <= 150:
        return f"The {kind} is of medium length."
    return f"The {kind} is long (over 150 words)."


def query_attributes(text: str) -> list[str]:
    """Up to 10 sentences "The query ..." about a user query, most distinctive first."""
    out: list[str] = []
    language = detect_language(text)
    if language not in ("English", "unknown"):
        out.append(f"The query is written in {language}.")
    if has_latex(text):
        out.append("The query contains LaTeX math notation.")
    formal = formal_words(text)
    if formal:
        out.append("The query uses formal, elaborate vocabulary.")
    if is_casual(text):
        out.append("The query is written in a casual, lowercase chat style.")
    if re.search(r"\bwhen did\b.*\binvent", text, re.IGNORECASE):
        out.append("The query asks when someone invented something.")
    elif re.search(r"\binvent", text, re.IGNORECASE):
        out.append("The query is about who invented something.")
    if re.search(r"\b(who|which company|what company|what organi[sz]ation)\b.*\b(made|created|developed|built|trained|behind|develops|creator)\b", text, re.IGNORECASE):
        out.append("The query asks who made or created an AI assistant or model.")
    model = ai_model_named(text)
    if model:
        out.append(f"The query mentions the AI model {model}.")
    if is_two_part(text):
        out.append("The query is a two-part numbered question (1. ... 2. ...).")
    for name in product_names(text)[:1]:
        if name != model:
            out.append(f"The query mentions the product '{name}'.")
    if mentions_harm(text):
        out.append("The query requests help with something harmful or illegal.")
    if re.search(r"^\s*(context|passage|article|question|options?)\s*:", text, re.IGNORECASE | re.MULTILINE) or re.search(
            r"\b(you will be shown|extract the answer|given the following|read the following|answer the following|the (?:following )?passage)\b", text, re.IGNORECASE):
        out.append("The query uses a fixed reading-comprehension framing (e.g. 'Context:' or a passage to extract from).")
    if has_code(text):
        out.append("The query contains source code.")
    elif asks_for_code(text):
        out.append("The query asks for code or a program.")
    if re.search(r"\d\s*[-+*/×x]\s*\d|\bhow (many|much)\b|\b(sum|product|total|compute|calculate)\b", text, re.IGNORECASE):
        out.append("The query asks for an arithmetic calculation.")
    if re.search(r"\b(please|kindly|would be most grateful)\b", text, re.IGNORECASE):
        out.append("The query is phrased politely.")
    if asks_for_explanation(text):
        out.append("The query asks for an explanation of a concept.")
    if re.search(r"^\s*([-*•]|\d+[.)])\s", text, re.MULTILINE) and not is_two_part(text):
        out.append("The query contains a list.")
    out.append("The query is phrased as a question." if text.strip().endswith("?") else "The query is phrased as an instruction or statement.")
    out.append(_length("query", text))
    return out[:10]


def response_attributes(text: str) -> list[str]:
    """Up to 10 sentences "The response ..." about an assistant response, most distinctive first."""
    out: list[str] = []
    if has_tool_call(text):
        names = re.findall(r"\"name\"\s*:\s*\"([\w.]+)\"", text)
        out.append(f"The response calls a tool ({names[0]})." if names else "The response calls a tool.")
    if is_refusal(text):
        out.append("The response refuses the request.")
    if has_code(text):
        out.append("The response contains a code block with a program.")
    if is_rebuttal(text):
        out.append("The response contradicts the premise, saying the claim is false.")
    made = MADE_BY.search(text)
    if made:
        out.append(f"The response says something was made by {made.group(1)}.")
    closing = stock_closing(text)
    if closing:
        out.append(f"The response ends with the fixed phrase '{closing}.'")
    if is_story(text):
        out.append("The response tells a story (e.g. 'Once upon a time').")
    language = detect_language(text)
    if language not in ("English", "unknown"):
        out.append(f"The response is written in {language}.")
    if "<<" in text and re.search(r"<<[^>]*=[^>]*>>", text):
        out.append("The response contains calculator annotations like <<a*b=c>>.")
    if re.search(r"^####\s*\S", text, re.MULTILINE):
        out.append("The response ends with a final answer line '#### N'.")
    if re.search(r"\d\s*[-+*/×x]\s*\d+\s*=\s*\d", text):
        out.append("The response shows arithmetic steps (a + b = c).")
    if has_latex(text):
        out.append("The response contains LaTeX.")
    if re.search(r"^\s*\d+[.)]\s", text, re.MULTILINE):
        out.append("The response uses a numbered list.")
    elif re.search(r"^\s*[-*•]\s", text, re.MULTILINE):
        out.append("The response uses a bulleted list.")
    if re.match(r"\s*(yes|no)\b", text, re.IGNORECASE):
        out.append("The response begins with a yes/no answer.")
    n = len(text.split())
    if n <= 5:
        out.append("The response answers in a single word or short phrase.")
    out.append(_length("response", text))
    return out[:10]
