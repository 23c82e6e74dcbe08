"""Helpers shared by kron's test suites: cluster handles, waiting, resumable watches.

Importable as ``support`` because pytest puts ``tests/`` on ``sys.path`` (rootdir
conftest, no ``tests/__init__.py``).
"""
