"""Update rules: the discrete maps of training, each with its linearization."""
