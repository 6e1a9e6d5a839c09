"""The deployment gates with and without ``model.exclude_features``, over several CV seeds; prints one line each.

``bench/parity_features.py`` compares the two column sets on all 388 unique rows. Whether a model may be promoted
is judged differently: ``mer train``'s protocol (grouped stratified hold-out of 20 %, then repeats × 10-fold grouped
CV on the 310 development rows, gates on the CV means). This bench runs exactly that training for each CV seed (the
hold-out split stays fixed, as in ``params.yaml``), once on all 50 columns and once leaving out
``mer.schema.UNREPRODUCED_FEATURES``, and prints the gated figures and the gates that fail. Nothing is saved or
registered. About 3 minutes per line on 2 cores.

    python bench/exclusion_gates.py                 # CV seeds 0, 1, 2
    python bench/exclusion_gates.py --seeds 0
"""

from __future__ import annotations

import argparse
import copy
import logging
import tempfile
import warnings

from mer.model.training import train
from mer.pipeline import cleaned
from mer.schema import UNREPRODUCED_FEATURES
from mer.settings import load_params


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = ap.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)
    logging.getLogger("mlflow").setLevel(logging.ERROR)  # its advice on pickled models, once per training
    table = cleaned("uci")
    base = load_params()
    print(f"{'CV seed':>7} {'columns':<10} {'macro-F1':>8} {'accuracy':>8} {'F1 sad':>7} {'hold-out':>8}  failed gates")
    for seed in args.seeds:
        for label, exclude in (("all 50", []), ("without 3", list(UNREPRODUCED_FEATURES))):
            params = copy.deepcopy(base)
            params["cv"]["seed"] = seed
            params["model"]["exclude_features"] = exclude
            with tempfile.TemporaryDirectory() as tmp:
                m = train(table, params, f"{tmp}/model", f"{tmp}/reports").metrics
            cv = m["cv"]
            failed = [g["name"] for g in m["gates"] if not g["passed"]]
            print(f"{seed:>7} {label:<10} {cv['macro_f1']['mean']:8.3f} {cv['accuracy']['mean']:8.3f} "
                  f"{cv['f1_sad']['mean']:7.3f} {m['holdout']['macro_f1']:8.3f}  {', '.join(failed) or '-'}",
                  flush=True)


if __name__ == "__main__":
    main()
