"""What a training run on the command line shows, logs and saves.

The progress bar goes to stderr and the held-out losses to stdout, one
line each, so that stdout holds only results. In a terminal the bar is
redrawn in place, and it is cleared before each line on stdout and drawn
again after it. Written to a file or a pipe, that clearing would land in
the file between the lines, so there the bar is drawn once, as a line of
its own, when training ends. The --log file gets one JSON line per step
and one per held-out measurement. Both training commands, on names and
on running text, also check the run's cost and save the model the same
way.
"""

import json
import sys
import time

from tqdm import tqdm

from . import checkpoint, cost
from .options import CliError
from .outputs import LineLog


class Progress:
    """The progress bar, the held-out lines and the --log file of a run.

    log is the --log path, or None for no log; quiet (a data-parallel
    process other than the first) keeps the log unwritten, since the
    first process writes it.
    """

    def __init__(self, num_steps, log=None, quiet=False):
        self.width = len(str(num_steps))  # for aligned step numbers
        self.live = sys.stderr.isatty()
        self.log = None if log is None or quiet else LineLog("--log", log)
        self.bar = tqdm(
            total=num_steps,
            unit="step",
            file=sys.stderr,
            dynamic_ncols=True,
            disable=not self.live,
        )
        self.steps, self.loss = 0, None
        self.start = time.perf_counter()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def step(self, step, loss):
        """Move the bar on by one step and log the step's loss."""
        self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        self.bar.update(1)
        self.steps, self.loss = step, loss
        self._log({"step": step, "loss": loss})

    def held_out(self, step, loss, bpc=None):
        """Print and log the held-out loss after step (bpc: with text)."""
        loss = float(loss)  # a twin may give a NumPy or torch scalar
        line = f"step {step:{self.width}d}: held-out loss {loss:.4f}"
        record = {"step": step, "val_loss": loss}
        if bpc is not None:
            line += f" per token, {bpc:.4f} bits per character"
            record["val_bpc"] = bpc
        if self.live:  # the bar clears itself around the line
            self.bar.write(line, file=sys.stdout)
        else:
            print(line)
        sys.stdout.flush()
        self._log(record)

    def _log(self, record):
        if self.log is not None:
            # The loss at full precision: json writes floats' repr.
            self.log.write(json.dumps(record))

    def close(self):
        """Draw the bar a last time and close the log."""
        self.bar.close()
        if not self.live and self.steps:
            line = self.bar.format_meter(
                self.steps,
                self.bar.total,
                time.perf_counter() - self.start,
                unit="step",
                postfix=f"loss={self.loss:.4f}",
            )
            print(line, file=sys.stderr)
            self.steps = 0  # closed: a second close draws nothing
        if self.log is not None:
            self.log.close()


def check_cost(twin, cfg, tcfg, scfg, docs, device, what="documents"):
    """Refuse a run too large for the memory; note a large one on stderr.

    twin is the twin's name and scfg the sampling settings; docs are the
    training documents as cost.check_run takes them, device is where
    the twin computes ({} off torch), and what names the documents in
    the note ("windows" for running text).
    """
    itemsize = device["dtype"].itemsize if device else 8
    try:
        note = cost.check_run(
            twin, cfg, tcfg, docs, device.get("device"), itemsize, scfg
        )
    except ValueError as e:
        raise CliError(str(e)) from None
    if note:
        note = note.replace("documents", what)
        print(f"microgpt: note: {note}", file=sys.stderr)


def save(path, twin, params, cfg, tokenizer, corpus=None):
    """Write the model to the --save checkpoint, and say so on stderr."""
    checkpoint.save(path, twin.to_weights(params), cfg, tokenizer, corpus)
    print(f"microgpt: saved the model to {path}", file=sys.stderr)
