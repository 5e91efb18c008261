"""The run folder: every file it holds, read back through one validating reader per kind.

A run folder is written by one process and read by many (`eval`, `report`, `plot`, a
resume), and any file in it may be damaged: cut short by a kill or a full disk, edited by
hand, copied from another run. Each kind has one reader. It returns what it promises,
every type, bound and choice checked (a config through the very table the command line
uses), or raises an error whose message is one line naming the file and what is wrong
with it. What follows is the caller's to decide: fall back to an older checkpoint, skip
the file with a one-line warning, or stop with exit code 2.

    checkpoints/update-*.pt, best.pt   checkpoints.py: read_checkpoint, find_checkpoint
    config.json                        files.py: read_config (written by write_config)
    metrics.csv                        metrics.py: read_metrics (a damaged row is skipped, counted)
    eval-*.json                        files.py: read_eval_record, read_eval_records
    .lock                              lock.py (the pid it holds)
    report.html, plots/, videos/, TensorBoard events: written here, never read back

No reader deletes a file: what cannot be read stays where it is, or is moved aside by
its writer with `set_aside` (a resume, a checkpoint's rotation).
"""
