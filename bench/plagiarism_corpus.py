"""The labelled plagiarism corpus: hand-written originals in bench/data/plagiarism and the
variants made from them by the known obfuscation levels, each level including the ones
before it (Faidhi and Robinson's levels, as used in plagiarism-detection studies):

code: copy; comments and whitespace; renaming of every identifier; reordering of functions
and classes; equivalent rewrites (augmented assignments spelled out, comparisons mirrored,
if/else branches swapped under a negated test).
text: copy; near copy (words swapped for synonyms, one sentence dropped, two swapped);
paraphrase (hand-written, one per topic: 28 topics, 22 of them with one independent essay
rather than two).

Positives pair an original with its variant; negatives pair independent solutions (or
essays) of the same task, and a variant of one with the other independent ones.
"""

from __future__ import annotations

import ast
import builtins
import io
import keyword
import random
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parent / "data" / "plagiarism"  # code as .py.txt: not the project's
CODE_LEVELS = ("copy", "comments", "renaming", "reordering", "rewrites")
TEXT_LEVELS = ("copy", "near_copy", "paraphrase")
_BUILTINS = set(dir(builtins))
_SYNONYMS = {
    "large": "big",
    "small": "little",
    "often": "frequently",
    "usually": "typically",
    "because": "since",
    "helps": "assists",
    "important": "crucial",
    "quickly": "rapidly",
    "mainly": "chiefly",
    "people": "persons",
    "problem": "issue",
    "many": "numerous",
    "also": "additionally",
    "but": "yet",
    "use": "employ",
    "used": "employed",
    "shows": "demonstrates",
    "makes": "renders",
    "needs": "requires",
    "simple": "basic",
    "example": "instance",
    "called": "named",
    "almost": "nearly",
    "which": "that",
}


@dataclass(frozen=True, slots=True)
class Pair:
    left: str
    right: str
    plagiarised: bool
    level: str  # the obfuscation level of a positive, "independent" for a negative
    group: str  # task or topic


def _comments_and_whitespace(source: str, rng: random.Random) -> str:
    out = ["# solution submitted for the exercise", ""]
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith('"""') and stripped.endswith('"""') and len(stripped) > 6:
            continue  # drop one-line docstrings
        if stripped.startswith(("def ", "class ")) and rng.random() < 0.7:
            out.append(" " * (len(line) - len(line.lstrip())) + "# helper: " + stripped[4:12])
        out.append(line.replace(", ", " ,  ").replace("(", "( ") + "  ")
        if stripped and rng.random() < 0.2:
            out.append("")
    return "\n".join(out) + "\n"


def _rename(source: str, rng: random.Random) -> str:
    names: dict[str, str] = {}
    out: list[tuple[int, str]] = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        text = token.string
        if (
            token.type == tokenize.NAME
            and not keyword.iskeyword(text)
            and text not in _BUILTINS
            and text not in {"self", "string", "re", "math", "statistics", "collections"}
            and not text.startswith("__")
        ):
            text = names.setdefault(text, f"{rng.choice('xyzqkvw')}{len(names)}_{text[::-1][:3]}")
        out.append((token.type, text))
    return tokenize.untokenize(out)


def _reorder(source: str, rng: random.Random) -> str:
    tree = ast.parse(source)
    head = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom | ast.Assign)]
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
    rest = [n for n in tree.body if n not in head and n not in defs]
    rng.shuffle(defs)
    for node in defs:
        if isinstance(node, ast.ClassDef):
            methods: list[ast.stmt] = [n for n in node.body if isinstance(n, ast.FunctionDef)]
            others = [n for n in node.body if not isinstance(n, ast.FunctionDef)]
            rng.shuffle(methods)
            node.body = others + methods
    tree.body = [*head, *defs, *rest]
    return ast.unparse(tree) + "\n"


class _Rewrite(ast.NodeTransformer):
    _MIRROR = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE}

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        target = node.target
        load = ast.parse(ast.unparse(target), mode="eval").body
        return ast.copy_location(
            ast.Assign(targets=[target], value=ast.BinOp(load, node.op, node.value)), node
        )

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if len(node.ops) == 1 and type(node.ops[0]) in self._MIRROR:
            return ast.Compare(
                node.comparators[0], [self._MIRROR[type(node.ops[0])]()], [node.left]
            )
        return node

    def visit_If(self, node: ast.If) -> ast.AST:
        self.generic_visit(node)
        if node.orelse and not (len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If)):
            return ast.If(ast.UnaryOp(ast.Not(), node.test), node.orelse, node.body)
        return node


def _rewrite(source: str) -> str:
    tree = ast.fix_missing_locations(_Rewrite().visit(ast.parse(source)))
    return ast.unparse(tree) + "\n"


def code_variant(source: str, level: str, seed: int) -> str:
    rng = random.Random(seed)
    if level == "copy":
        return source
    variant = source
    if level in {"renaming", "reordering", "rewrites"}:
        variant = _rename(variant, rng)
    if level in {"reordering", "rewrites"}:
        variant = _reorder(variant, rng)
    if level == "rewrites":
        variant = _rewrite(variant)
    return _comments_and_whitespace(variant, rng)


def near_copy(text: str, seed: int) -> str:
    rng = random.Random(seed)
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    if len(sentences) > 3:
        sentences.pop(rng.randrange(1, len(sentences)))
        i = rng.randrange(len(sentences) - 1)
        sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]

    def swap(match: re.Match[str]) -> str:
        word = match.group()
        return _SYNONYMS.get(word.lower(), word)

    return " ".join(re.sub(r"[A-Za-z]+", swap, s) for s in sentences)


def _groups(kind: str) -> dict[str, dict[str, str]]:
    return {
        folder.name: {
            path.name.split(".")[0]: path.read_text() for path in sorted(folder.glob("*.txt"))
        }
        for folder in sorted((DATA / kind).iterdir())
    }


def code_pairs() -> list[Pair]:
    pairs: list[Pair] = []
    for task, solutions in _groups("code").items():
        names = sorted(solutions)
        for seed, name in enumerate(names):
            for level in CODE_LEVELS:
                variant = code_variant(solutions[name], level, seed)
                pairs.append(Pair(solutions[name], variant, True, level, task))
                for other in names:
                    if other != name:
                        pairs.append(Pair(solutions[other], variant, False, level, task))
    return pairs


def text_pairs() -> list[Pair]:
    pairs: list[Pair] = []
    for topic, essays in _groups("text").items():
        originals = {name: text for name, text in essays.items() if name != "paraphrase"}
        variants = {
            "copy": originals["a"],
            "near_copy": near_copy(originals["a"], len(topic)),
            "paraphrase": essays["paraphrase"],
        }
        independent = sorted(name for name in originals if name != "a")
        for level, variant in variants.items():
            pairs.append(Pair(originals["a"], variant, True, level, topic))
            for other in independent:
                pairs.append(Pair(originals[other], variant, False, level, topic))
        for i, first in enumerate(independent):
            for second in ["a", *independent[i + 1 :]]:
                pairs.append(Pair(originals[first], originals[second], False, "independent", topic))
    return pairs
