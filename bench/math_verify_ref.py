"""math-verify, the outside reference for creditflow's math verifier. Two jobs:

  cases TESTS_DIR   read the (gold, prediction, expected) tables of Math-Verify's own test suite
                    (huggingface/Math-Verify, tests/) and print them as JSON, each with math-verify's
                    verdict as the test calls it and with default settings. This regenerates
                    test/fixtures/rewards/math-verify-cases.json:
                      python bench/math_verify_ref.py cases <Math-Verify checkout>/tests \
                        > test/fixtures/rewards/math-verify-cases.json
  run               read JSON lines {"gold", "prediction"} on stdin; print one JSON line per case,
                    {"correct": bool}, then {"seconds": wall time of the verification loop}.
                    The reward bench times math-verify with this on the cases it times ours on.

Run with the reference venv's python (`npm run rewards:references` creates it and prints its path).
The test tables are read with `ast`, not imported: the test modules need pytest and mocks.
"""

import ast
import json
import math
import re
import sys
import time
from pathlib import Path

from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify


def literal(node):
    """A parametrize value: a literal, or a small expression such as f"{math.sqrt(17):.15f}"."""
    try:
        return ast.literal_eval(node)
    except ValueError:
        return eval(compile(ast.Expression(node), "<case>", "eval"), {"math": math})


def call_config(fn):
    """Keyword arguments of the compare_strings(...) call in a test function (None: plain parse/verify)."""
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "compare_strings":
            cfg = {}
            for kw in node.keywords:
                cfg[kw.arg] = kw.value.id if isinstance(kw.value, ast.Name) else ast.literal_eval(kw.value)
            return cfg
    return None


def inline_cases(path, fn):
    """`assert compare_strings("gold", "pred", ...) == 1` written out in a test body (test_precision)."""
    for node in ast.walk(fn):
        if not (isinstance(node, ast.Compare) and isinstance(node.left, ast.Call)):
            continue
        c = node.left
        if getattr(c.func, "id", None) != "compare_strings" or len(c.args) != 2:
            continue
        call = {"match_types": ["latex", "expr"], "precision": 6, "strict": True, "allow_set_relation_comp": False}
        call.update({kw.arg: ast.literal_eval(kw.value) for kw in c.keywords})
        yield {
            "family": f"{path.stem}::{fn.name}",
            "gold": ast.literal_eval(c.args[0]),
            "prediction": ast.literal_eval(c.args[1]),
            "expected": bool(ast.literal_eval(node.comparators[0])),
            "call": call,
        }


def table_cases(path):
    tree = ast.parse(path.read_text())
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        if not fn.decorator_list:
            yield from inline_cases(path, fn)
        for deco in fn.decorator_list:
            if not (isinstance(deco, ast.Call) and getattr(deco.func, "attr", None) == "parametrize"):
                continue
            names = [n.strip() for n in ast.literal_eval(deco.args[0]).split(",")]
            if "gold" not in names or "pred" not in names:
                continue  # string-extraction tables have no gold
            cfg = call_config(fn)
            for row in deco.args[1].elts:
                values = dict(zip(names, (literal(v) for v in row.elts)))
                expected = values.get("expected", values.get("result"))
                call = {"match_types": ["latex", "expr"], "precision": 6, "strict": True, "allow_set_relation_comp": False}
                if cfg is None:
                    call = None  # the test calls verify(parse(gold), parse(pred)): the defaults
                else:
                    for k, v in cfg.items():
                        call[k] = values[v] if isinstance(v, str) and v in values else v
                yield {
                    "family": f"{path.stem}::{fn.name}",
                    "gold": values["gold"],
                    "prediction": values["pred"],
                    "expected": bool(expected),
                    "call": call,
                }


def as_written(case):
    """math-verify's verdict with the extraction and comparison settings the test passes."""
    call = case["call"]
    if call is None:
        return default_verdict(case["gold"], case["prediction"])
    targets = []
    for t in call["match_types"]:
        targets.append(LatexExtractionConfig(boxed_match_priority=0) if t == "latex" else ExprExtractionConfig())
    gold = parse(case["gold"], targets)
    pred = parse(case["prediction"], targets)
    return bool(verify(gold, pred, float_rounding=call["precision"], strict=call["strict"],
                       allow_set_relation_comp=call["allow_set_relation_comp"]))


def default_verdict(gold, prediction):
    return bool(verify(parse(gold), parse(prediction)))


# The last number of the gold that is not an exponent or a subscript (`15\mbox{ cm}^2` changes 15).
NUMBER = re.compile(r"(?<![\^_\d.])\d+(?:\.\d+)?")


def last_box(text):
    """(start, end) of the content of the last balanced \\boxed{...}, or the whole text."""
    k = text.rfind("boxed{")
    if k < 0:
        return 0, len(text)
    depth, start = 0, k + 5
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return start, i
    return start, len(text)


def near_miss(gold):
    """The gold with one number changed: the integer part of its last number (inside its last box,
    if it has one) plus one, width kept."""
    lo, hi = last_box(gold)
    found = [m for m in NUMBER.finditer(gold) if lo <= m.start() < hi]
    if not found:
        return None
    m = found[-1]
    whole, _, frac = m.group().partition(".")
    changed = str(int(whole) + 1).zfill(len(whole)) + ("." + frac if frac else "")
    return gold[: m.start()] + changed + gold[m.end():]


def cases(tests_dir):
    out = []
    for path in sorted(Path(tests_dir).glob("test_*.py")):
        for case in table_cases(path):
            case["mathVerifyAsWritten"] = as_written(case)
            case["mathVerifyDefault"] = default_verdict(case["gold"], case["prediction"])
            out.append(case)
    # Near misses: every correct case with one number of its gold changed must now be incorrect.
    misses, seen = [], set()
    for k, case in enumerate(out):
        gold = near_miss(case["gold"]) if case["expected"] else None
        if gold is None or (gold, case["prediction"]) in seen:
            continue
        seen.add((gold, case["prediction"]))
        misses.append({"of": k, "family": case["family"], "gold": gold, "prediction": case["prediction"], "call": case["call"],
                       "mathVerifyDefault": default_verdict(gold, case["prediction"])})
    json.dump({"source": "huggingface/Math-Verify tests/ (math-verify 0.8.0); nearMisses: each correct case with the last number of its gold + 1",
               "cases": out, "nearMisses": misses}, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


def run():
    items = [json.loads(line) for line in sys.stdin if line.strip()]
    verdicts = []
    t0 = time.perf_counter()
    for item in items:
        try:
            verdicts.append(default_verdict(item["gold"], item["prediction"]))
        except Exception:  # noqa: BLE001 - a crash of the reference counts as "not correct"
            verdicts.append(False)
    seconds = time.perf_counter() - t0
    for v in verdicts:
        sys.stdout.write(json.dumps({"correct": v}) + "\n")
    sys.stdout.write(json.dumps({"seconds": seconds}) + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "cases":
        cases(sys.argv[2])
    elif len(sys.argv) == 2 and sys.argv[1] == "run":
        run()
    else:
        sys.exit(__doc__)
