"""The harness every study in ``studies/`` runs on."""
