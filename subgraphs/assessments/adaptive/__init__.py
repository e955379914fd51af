"""Adaptive testing with item response theory: calibration of the bank's items (calibration),
ability estimates (irt), the next item's choice (selection), their tables (models) and their
place in taking an assessment (testing)."""
