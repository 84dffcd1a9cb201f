"""The pages' only door to the engine: cached calls keyed on their inputs, one module per area.

Every cached function takes the database path and its data version first,
so results are reused until an import, undo, reset or follow-up bumps the
version, and never leak between two databases. Each call opens the file
for the duration of one query and closes it (DESIGN §2). The modules only
cache and hand out engine results; what a page shows is computed in the
engine, where it is tested without Streamlit. A page imports the modules it
uses (`from ui.data import scoring`).
"""
