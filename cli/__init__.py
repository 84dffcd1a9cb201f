"""The command line of DESIGN §5, run as `python -m engine`: a front-end over the engine."""
