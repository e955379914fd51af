"""Tokens of an answer, each with the characters it covers in the answer.

Code goes through Python's own lexer (`tokenize`): comments, blank lines and indentation
vanish, every identifier becomes `V` and every literal `L` (keywords and operators stay), so
renaming, reformatting and comment changes leave the token stream as it was. Code that does
not lex to its end keeps the tokens before the error. Text is lower-cased words.
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize
from dataclasses import dataclass

IDENTIFIER = "V"
LITERAL = "L"
_SKIPPED = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENCODING,
    tokenize.ENDMARKER,
    tokenize.TYPE_COMMENT,
}
_LITERALS = {tokenize.NUMBER, tokenize.STRING}
# Python 3.12 lexes an f-string as parts; earlier ones as one STRING.
_FSTRING_START = getattr(tokenize, "FSTRING_START", -1)
_FSTRING_END = getattr(tokenize, "FSTRING_END", -1)
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    start: int  # offset of the first character in the answer
    end: int  # offset after the last


def _line_offsets(source: str) -> list[int]:
    offsets = [0]
    for line in source.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    return offsets


def code_tokens(source: str) -> list[Token]:
    lines = _line_offsets(source)
    tokens: list[Token] = []
    in_fstring = 0
    try:
        for item in tokenize.generate_tokens(io.StringIO(source).readline):
            if item.type in _SKIPPED:
                continue
            start = lines[item.start[0] - 1] + item.start[1]
            end = lines[item.end[0] - 1] + item.end[1]
            if item.type == _FSTRING_START:  # an f-string is one literal
                if not in_fstring:
                    tokens.append(Token(LITERAL, start, end))
                in_fstring += 1
                continue
            if item.type == _FSTRING_END:
                in_fstring -= 1
                continue
            if in_fstring:
                continue
            if item.type == tokenize.NAME and not keyword.iskeyword(item.string):
                text = IDENTIFIER
            elif item.type in _LITERALS:
                text = LITERAL
            elif item.type == tokenize.NEWLINE:
                text = ";"
            else:
                text = item.string
            tokens.append(Token(text, start, end))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # keep what lexed before the error
    return tokens


def text_tokens(text: str) -> list[Token]:
    return [Token(m.group().lower(), m.start(), m.end()) for m in _WORD.finditer(text)]
