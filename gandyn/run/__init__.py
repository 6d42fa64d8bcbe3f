"""Runs: the run spec (:mod:`gandyn.run.spec`), its files (:mod:`gandyn.run.spec_files`),
building and running it (:mod:`gandyn.run.build`)."""
