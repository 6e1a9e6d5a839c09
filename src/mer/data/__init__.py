"""Tabular inputs: reading any CSV dialect, cleaning, duplicate groups, the cleaning report."""
