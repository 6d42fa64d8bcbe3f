"""Runs: the run spec (:mod:`gandyn.runs.spec`), its files (:mod:`gandyn.runs.spec_files`),
building and running it (:mod:`gandyn.runs.build`)."""
