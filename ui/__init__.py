"""Streamlit helpers shared by the pages: context, cached engine calls, charts."""
