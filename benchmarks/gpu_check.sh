#!/usr/bin/env bash
# The checks that need CUDA, as one prepared script for a lent GPU machine (the project's device
# tool sends the working tree and runs this in its root; the image's python3 holds a CUDA torch,
# numpy, scipy, sympy, hypothesis, pytest, matplotlib and tqdm, but not orthornn, so it runs from
# the tree through PYTHONPATH). Each stage has its own time limit so that what finished comes back
# (in $OUT, else ./gpu-check):
#   device.txt         the GPU and the torch build;
#   gpu-tests.txt      every @pytest.mark.gpu test: CUDA against the CPU for every model, the
#                      spectral node on CUDA, and issue 14's two NCCL ranks (skipped on one GPU);
#   fractional.txt     issue 12's rows on CUDA (benchmarks/models.py --fractional: RUM λ = 0.5
#                      fixed and learned, λ = 0.75 and the so_power step path against λ = 1);
#   lm_throughput.txt  RUM against torch.nn.LSTM on the language-model workloads on CUDA.
# Budget: about 8 minutes of the machine.   Usage: bash benchmarks/gpu_check.sh
# The tool sends at most 64 MiB of tree, and the tracked run folders under analysis/results/*/runs
# hold about 270 MB (per-step metrics and checkpoints); the rest is about 7 MB. Before the call,
# with everything committed, take them out of the index and ignore them (the files stay on disk):
#   git rm -r -q --cached analysis/results/*/runs && echo 'analysis/results/*/runs/' >> .git/info/exclude
# and after it put the index back from HEAD and drop that line again:
#   git reset -q && sed -i '\#^analysis/results/\*/runs/$#d' .git/info/exclude
set -uo pipefail
out=${OUT:-gpu-check}
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 MPLBACKEND=Agg
py=${PYTHON:-python3}
{ nvidia-smi -L; "$py" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda,
      [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())])'; } 2>&1 | tee "$out/device.txt"
# the test files that hold gpu tests (the others need packages the image may lack, e.g. submitit)
mapfile -t files < <(grep -l "pytest.mark.gpu" -r tests --include="test_*.py" | sort)
timeout 240 "$py" -m pytest -q -rs -m gpu -p no:cacheprovider "${files[@]}" 2>&1 | tee "$out/gpu-tests.txt"
timeout 180 "$py" benchmarks/models.py --fractional --reps 2 --device cuda 2>&1 | tee "$out/fractional.txt"
timeout 60 "$py" benchmarks/lm_throughput.py --reps 3 --device cuda --only ptb babi 2>&1 | tee "$out/lm_throughput.txt"
