"""`python -m engine ...`: the command line of DESIGN §5, which lives in cli/.

The one module of the engine that imports a front-end: it is the entry point the
documentation names, not logic (the architecture test allows this one import).
"""
import sys

from cli.main import main

sys.exit(main())
