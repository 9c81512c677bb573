"""Files people take away: the quarterly review as PPTX, PDF and HTML, and tables as CSV/XLSX.

Presentation, not analytics: these modules format and lay out figures that analytics/
computes; they never import streamlit or ui, so the page, the command line and scheduled
packs build the same files.
"""
