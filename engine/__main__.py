"""`python -m engine ...`: the command line of DESIGN §5."""
import sys

from engine.cli import main

sys.exit(main())
