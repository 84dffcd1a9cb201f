"""Presentation of the monthly review outside the engine: figures, cards and the HTML report.

The engine imports neither streamlit nor plotly (STYLE 1), so the pieces
that draw live here: `figures` builds the review's plotly figures and card
texts in a language (the Review page and the report use the same ones), and
`html` writes the self-contained HTML report. Neither imports streamlit, so
the command line (`python -m engine review --out`) uses them too.
"""
