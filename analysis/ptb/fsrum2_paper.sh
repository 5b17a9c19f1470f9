#!/bin/bash
# FS-RUM-2 as the RUM paper trains it (appendix D, Tables 5 and 6; 1.189 test BPC reported):
# two fast layer-normalised LSTM cells of 700 units around a slow RUM of 1000 (λ = 0, η = 1,
# layer norm), embedding 128, windows of 150, batch 128, dropout 0.35, zoneout 0.5 (cell) and
# 0.1 (hidden), Adam 0.002 with the Table 6 pattern over 360 epochs (266 windows each), gradient
# clip 1.0. Needs a GPU (on this CPU one step would take minutes). Not run here.
#
#   analysis/ptb/fsrum2_paper.sh DATA_DIR OUT_DIR [extra orthornn train options, e.g. --device cuda:1]
#
# Resume an interrupted run with: orthornn train --resume OUT_DIR
set -euo pipefail
data=${1:?usage: fsrum2_paper.sh DATA_DIR OUT_DIR [options]}
out=${2:?usage: fsrum2_paper.sh DATA_DIR OUT_DIR [options]}
shift 2
exec orthornn train ptb --data "$data" --model fsrum --hidden 1000 --fast-hidden 700 --fast-cells 2 \
  --lam 0 --eta 1.0 --embed 128 --bptt 150 --batch 128 --dropout 0.35 --zoneout 0.1 --cell-zoneout 0.5 \
  --optimizer adam --lr 0.002 --lr-schedule paper --clip 1.0 --steps 95760 --eval-every 266 \
  --checkpoint-every 266 --device cuda --out "$out" "$@"
