"""python -m microgpt.experiments NAME --out FILE: run one experiment.

The table below names each experiment and the function that runs it;
``--quick`` runs its smallest plan, which is what the tests use.
"""

import argparse
import json
import sys

from .. import outputs

# Each experiment: its name on the command line -> (module, function).
# The modules are imported only when their experiment runs, since some
# need PyTorch.
EXPERIMENTS = {
    "ablations": ("ablations", "run"),
    "gpt_vs_ngram": ("gpt_vs_ngram", "run"),
    "gpt2_steps": ("gpt2_steps", "run"),
    "scaling": ("scaling", "run"),
    "text_bpe": ("text_bpe", "run"),
}


def main(argv=None):
    """Parse the command line, run the experiment, write its JSON."""
    parser = argparse.ArgumentParser(
        prog="python -m microgpt.experiments",
        description="Run one of the book's long experiments and write its "
        "result as JSON.",
    )
    parser.add_argument(
        "name", choices=sorted(EXPERIMENTS), help="the experiment to run"
    )
    parser.add_argument(
        "--out", required=True, help="the JSON file to write (atomically)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="the smallest plan, for a quick check",
    )
    args = parser.parse_args(argv)
    # The output is checked before the run, which may take many minutes,
    # so that a wrong path is said at once, not after the work.
    try:
        outputs.check([("--out", args.out)])
    except ValueError as e:
        print(f"microgpt.experiments: error: {e}", file=sys.stderr)
        return 1
    module, function = EXPERIMENTS[args.name]
    run = getattr(
        __import__(f"microgpt.experiments.{module}", fromlist=[function]),
        function,
    )
    result = run(quick=args.quick)
    text = json.dumps(result, indent=1, sort_keys=True) + "\n"
    try:
        outputs.atomic_write(args.out, lambda f: f.write(text.encode("utf-8")))
    except OSError as e:
        print(f"microgpt.experiments: error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
