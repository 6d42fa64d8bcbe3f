"""The readers behind :func:`gandyn.explain.logs.read_log`, one module per family of formats.

Each reader turns a log into a :class:`~gandyn.explain.logformats.base.Table` of
named numeric columns (or, for the two strict printouts, directly into a
:class:`~gandyn.explain.logformats.base.TrainingLog`);
:func:`~gandyn.explain.logformats.assign.build_log` then names the series, derives
the step and counts what it leaves out. The modules, each using only those
above it:

:mod:`~gandyn.explain.logformats.base`
    :class:`TrainingLog`, :class:`Table`, the errors, and the cleaning step
    (:func:`assemble`: blank, NaN and infinite rows and diverged tails counted).
:mod:`~gandyn.explain.logformats.names`
    the keys training loops use for the losses and counters, and network pairs.
:mod:`~gandyn.explain.logformats.assign`
    which column is which series, and the step from the log's counters.
:mod:`~gandyn.explain.logformats.printed`
    printed ``key: value`` lines of any loop, and user templates.
:mod:`~gandyn.explain.logformats.printouts`
    the Keras tutorial's and the PyTorch DCGAN example's printouts, read strictly.
:mod:`~gandyn.explain.logformats.tables`
    CSV/TSV and the exports of TensorBoard, Weights & Biases and MLflow.
:mod:`~gandyn.explain.logformats.jsonlines`
    JSON lines and arrays, with StyleGAN's statistics objects.
:mod:`~gandyn.explain.logformats.tensorboard`
    event files, through TensorBoard's own reader (an optional dependency).
"""
