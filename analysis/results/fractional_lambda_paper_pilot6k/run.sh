#!/bin/bash
# The pilot of README.md; resumable: running it again continues each run from its checkpoint.
# PYTHON: the interpreter with orthornn installed (default: python).
set -e
cd "$(dirname "$0")/../../.."
OUT=analysis/results/fractional_lambda_paper_pilot6k
for lam in 1 0.5; do
  d=$OUT/runs/T30_lam${lam}_seed0
  [ -f $d/summary.json ] && continue
  if [ -f $d/checkpoint.pt ]; then R="--resume $d"; else R="--out $d"; fi
  mkdir -p $OUT/runs
  OMP_NUM_THREADS=1 nice -n 5 ${PYTHON:-python} -m orthornn train recall --model rum --T 30 --hidden 50 --batch 128 \
    --lam $lam --rum-init orthogonal --optimizer adam --lr 1e-3 --readout-init glorot-io --train-size 100000 \
    --train-order cycle --valid-size 10000 --test-size 20000 --steps 6000 --eval-every 1000 --checkpoint-every 500 \
    --seed 0 $R --quiet
done
