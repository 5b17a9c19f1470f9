r"""The errors of a nearly solved recall run, one by one: what it answers instead, and why.

RUM λ = 1 at T = 50 stops at 99.8 % (issue 17: the paper reports 100 %), and the position probe
(``T50/``) shows that its errors do not depend on where the queried pair sits. This script
looks at the errors themselves, on the run's validation *and* test sets (30,000 sequences for
the official configs), and tabulates for each wrong answer:

* the queried key and the right digit;
* the answered digit, and whether it is the digit of **another pair** of the sequence — if so,
  of which key, and at what distance (in pairs) from the queried one: a confusion of keys;
* how often the right and the answered digit occur among the sequence's digits;
* the probability the readout gives the right and the answered digit;
* where the answered digit's keys rank among the other keys by the cosine of their input
  embedding (ε's columns of ``W_x``) with the queried key's: if the model confuses keys whose
  embeddings are close, the rank is small.

It prints Markdown: the errors, and per queried key the error count against the ``1/n`` share
an even spread would give (a χ² test of uniformity, from :func:`scipy.stats.chisquare`).

    OMP_NUM_THREADS=1 python analysis/recall_memory/errors.py RUN [RUN ...] [--names NAME ...]

No training; it reads ``checkpoint.pt`` (:func:`recall_memory.load_trainer`).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import scipy.stats
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from recall_memory import load_trainer, query_positions


@torch.no_grad()
def errors(run: Path) -> dict[str, Any]:
    """Every wrong answer of ``run``'s checkpoint on its validation and test sets."""
    trainer = load_trainer(run)
    stream = trainer.stream
    task = stream.task
    n = task.n_keys
    emb = trainer.model.core.cell.weight_x[2 * n :, 1 : n + 1].double()  # ε's column of each key (ids 1 … n)
    emb = emb / emb.norm(dim=0, keepdim=True)
    cos = (emb.T @ emb).numpy()  # cos[a - 1, b - 1]: the cosine of keys a and b's embeddings
    rows: list[dict[str, Any]] = []
    keys_queried: list[np.ndarray] = []
    total = 0
    for split, fixed in (("valid", stream.valid_set), ("test", stream.test_set)):
        if fixed is None:
            continue
        for lo in range(0, len(fixed), 1000):
            x, y = fixed.inputs[lo : lo + 1000], fixed.targets[lo : lo + 1000]
            b = stream.encode(x, y)
            scores, _ = trainer.model(b.x)
            prob = torch.softmax(scores[:, -1].double(), -1).numpy()
            guess = prob.argmax(-1)
            pos = query_positions(x, n)
            keys, digits = x[:, 0 : 2 * n : 2], x[:, 1 : 2 * n : 2] - (n + 1)
            keys_queried.append(x[:, -1])
            total += len(x)
            for i in np.flatnonzero(guess != y):
                same = np.flatnonzero(digits[i] == guess[i])  # the pairs holding the answer: never the queried one
                near = same[np.argmin(np.abs(same - pos[i]))] if same.size else None
                others = [j for j in range(n) if j != pos[i]]
                order = sorted(others, key=lambda j: -cos[x[i, -1] - 1, keys[i, j] - 1])
                rank = min(order.index(j) for j in same) + 1 if same.size else None
                rows.append({
                    "split": split, "index": lo + int(i), "key_id": int(x[i, -1]), "key": task.render([x[i, -1]]),
                    "position": int(pos[i]) + 1, "right": int(y[i]), "answered": int(guess[i]),
                    "answered_is_a_pair": bool(same.size),
                    "other_key": task.render([keys[i, near]]) if near is not None else "",
                    "distance": int(near - pos[i]) if near is not None else None,
                    "count_right": int((digits[i] == y[i]).sum()), "count_answered": int(same.size),
                    "p_right": float(prob[i, y[i]]), "p_answered": float(prob[i, guess[i]]),
                    "wrong_present": len(set(digits[i].tolist()) - {int(y[i])}) / 9,
                    "similar_rank": rank, "similar_p": _min_rank_p(rank, same.size, n - 1) if same.size else None,
                })  # fmt: skip
    queried = np.concatenate(keys_queried)
    per_key = np.bincount([r["key_id"] for r in rows], minlength=n + 1)[1:]
    share = np.bincount(queried, minlength=n + 1)[1:] / queried.size
    expected = share * len(rows)
    chi = scipy.stats.chisquare(per_key, expected) if rows else None
    return {"run": str(run), "step": trainer.step, "sequences": total, "errors": rows,
            "per_key": per_key.tolist(), "keys": [task.render([k]) for k in range(1, n + 1)],
            "chi2_p": float(chi.pvalue) if chi is not None else None}  # fmt: skip


def _min_rank_p(rank: int, c: int, m: int) -> float:
    """P(the best of ``c`` keys drawn at random from ``m`` ranks ≤ ``rank``): a small value means the
    answered digit's keys are among the queried key's most similar embeddings."""
    return 1.0 - math.comb(m - rank, c) / math.comb(m, c)


def markdown(name: str, res: dict[str, Any]) -> str:
    rows = res["errors"]
    lines = [f"## {name} (step {res['step']:,}): {len(rows)} errors in {res['sequences']:,} sequences", ""]
    pair = [r for r in rows if r["answered_is_a_pair"]]
    chance = sum(r["wrong_present"] for r in rows)
    lines.append(f"{len(pair)} of {len(rows)} answers are the digit of another pair of the sequence "
                 f"({chance:.1f} expected of wrong digits drawn at random from the nine).")  # fmt: skip
    p_wrong = np.array([r["p_answered"] for r in rows]) if rows else np.zeros(0)
    p_right = np.array([r["p_right"] for r in rows]) if rows else np.zeros(0)
    if rows:
        lines.append(f"Readout probability of the answered digit: median {np.median(p_wrong):.2f}; "
                     f"of the right one: median {np.median(p_right):.2f}.")  # fmt: skip
        sim = np.array([r["similar_p"] for r in rows if r["similar_p"] is not None])
        lines.append(f"Is the answered digit's key one whose embedding is close to the queried key's? The chance "
                     f"that random keys rank as high: median {np.median(sim):.2f} over {sim.size} errors "
                     f"(0.5 if the embeddings play no part; {int((sim <= 0.1).sum())} at ≤ 0.1).")  # fmt: skip
        counts = ", ".join(f"{k} {c}" for k, c in zip(res["keys"], res["per_key"], strict=True) if c)
        lines.append(f"Errors per queried key ({counts}); χ² test of an even spread over the keys: "
                     f"p = {res['chi2_p']:.3g}.")  # fmt: skip
    head = ["split", "seq", "key", "position", "right", "answered", "other pair (key, distance)",
            "count right / answered", "p right / answered", "similar rank"]  # fmt: skip
    lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        other = f"{r['other_key']}, {r['distance']:+d}" if r["answered_is_a_pair"] else "none"
        cells = [r["split"], r["index"], r["key"], r["position"], r["right"], r["answered"], other,
                 f"{r['count_right']} / {r['count_answered']}", f"{r['p_right']:.2f} / {r['p_answered']:.2f}",
                 r["similar_rank"] or "—"]  # fmt: skip
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", type=Path, help="recall run folders holding checkpoint.pt")
    p.add_argument("--names", nargs="+", default=None, metavar="NAME")
    a = p.parse_args(argv)
    names = a.names if a.names is not None else [r.name for r in a.runs]
    if len(names) != len(a.runs):
        p.error(f"--names gives {len(names)} names for {len(a.runs)} runs")
    for run in a.runs:
        if not (run / "checkpoint.pt").is_file():
            p.error(f"{run}: no checkpoint.pt")
    for name, run in zip(names, a.runs, strict=True):
        print(markdown(name, errors(run)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
