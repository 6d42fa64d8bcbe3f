"""Reports: text, LaTeX and JSON renderings of derivations, runs and catalogues."""
