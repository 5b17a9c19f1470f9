"""The test accuracy of a run's current checkpoint, before the run reaches its last step (which
tests by itself): the run's config and parameters, its 20,000-sequence test set.

    python analysis/results/rum_table1_recall_official/evaluate_checkpoint.py RUN_FOLDER

Prints one JSON line: the checkpoint's step, its test loss, accuracy and number of sequences.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from orthornn.train import TrainConfig, Trainer, load_checkpoint


def main(folder: Path) -> None:
    torch.set_num_threads(1)
    state = load_checkpoint(folder / "checkpoint.pt")
    trainer = Trainer(TrainConfig.from_dict(json.loads((folder / "config.json").read_text())))
    trainer.load_state_dict(state)
    rec = trainer.evaluate("test")
    print(json.dumps({"step": state["step"], **{k: rec[k] for k in ("loss", "accuracy", "sequences")}}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
