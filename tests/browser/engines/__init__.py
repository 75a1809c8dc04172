"""The browser tier's drivers for the two engines other than Chromium (see drivers.py)."""
