"""Customer tiering engine: all logic, no Streamlit (DESIGN §2)."""
