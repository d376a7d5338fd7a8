"""Up Next as the app runs it: the user model, the score, the queue rules, reasons and the service.

The evaluation harness lives in :mod:`player_plugin.evaluation`, which imports this package; nothing
here imports it (tests/test_product_imports.py).
"""
