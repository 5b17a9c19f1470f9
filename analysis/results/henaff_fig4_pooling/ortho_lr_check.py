"""The short measured check that picks the soft-orthogonality step size (``ortho_lr``).

Henaff §4.2 takes one SGD step per iteration on ‖VᵀV − I‖ at m = 50 random unit points but
does not state its step size. This trains the pooled LT-ORNN of Figure 4 (pool 2, RMSProp
1e-4, act clip 1000, batch 50) for a few hundred steps with several step sizes and prints, for
each, how far V is from orthogonal (largest |σ_i(V) − 1| and ‖VᵀV − I‖_F) and the last training
losses, so the choice is a measured one:

    OMP_NUM_THREADS=1 python analysis/results/henaff_fig4_pooling/ortho_lr_check.py [--steps 300]
"""

from __future__ import annotations

import argparse
import time

import torch

from orthornn.train import TrainConfig
from orthornn.train.loop import Trainer


def distance(V: torch.Tensor) -> tuple[float, float]:
    s = torch.linalg.svdvals(V.detach().double())
    E = V.detach().double().T @ V.detach().double() - torch.eye(V.shape[0], dtype=torch.float64)
    return float((s - 1).abs().max()), float(torch.linalg.matrix_norm(E))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--task", default="copy")
    p.add_argument("--etas", type=float, nargs="*", default=[0.0, 0.01, 0.1, 1.0])
    args = p.parse_args()
    extra = {"S": 10, "K": 8, "hidden": 80, "T": 100} if args.task == "copy" else {"hidden": 128, "T": 200}
    for eta in args.etas:
        cfg = TrainConfig(task=args.task, model="ltrnn", init="orthogonal", pool=2, act_clip=1000.0,
                          ortho_lr=eta, batch=50, lr=1e-4, optimizer="rmsprop", steps=args.steps,
                          eval_every=args.steps, seed=0, **extra)  # fmt: skip
        tr = Trainer(cfg)
        t0, losses, worst = time.perf_counter(), [], 0.0
        for k in range(args.steps):
            rec = tr.train_step()
            losses.append(rec["loss"])
            if (k + 1) % 50 == 0:
                worst = max(worst, distance(tr.model.core.weight_rec)[0])
        sec = (time.perf_counter() - t0) / args.steps
        dmax, dfro = distance(tr.model.core.weight_rec)
        tail = sum(losses[-50:]) / 50
        print(f"{args.task} ortho_lr={eta:g}: after {args.steps} steps max|σ-1|={dmax:.2e} "
              f"(worst of every 50 steps {worst:.2e}) ‖VᵀV-I‖_F={dfro:.2e} "
              f"train loss (mean of last 50)={tail:.4f}  {sec * 1000:.0f} ms/step", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
