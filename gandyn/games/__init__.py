"""Games: losses, regularizers, the catalogue of games and game files."""
