"""Files: runs and figures written and read back, with their sidecars."""
