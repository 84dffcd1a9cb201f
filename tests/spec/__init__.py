"""An executable specification of DESIGN §4.1–4.8, for the differential tests only.

Deliberately plain and slow: Python loops over customers and events, exact
fractions for money, one function per definition of DESIGN §4, written from
DESIGN's text alone. It shares nothing with `engine/` beyond the data model
(the tables of `engine.store`, read back as plain Python rows). Where the
text leaves a choice, the function's docstring quotes the sentence and says
which reading it takes; tests/engine/test_differential.py runs the engine
and this specification on random small bases and asks them to agree.
"""
