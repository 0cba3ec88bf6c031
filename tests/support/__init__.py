"""Helpers the tests import: constants, builders, fake collaborators and shared fixtures.

Test modules and benchmarks import helpers from here, never from a ``conftest.py``: pytest
loads each conftest itself, for its own folder, and a helper imported from one ties a test to
another folder's set-up. Fixtures that several folders need are defined here too and pulled
into each folder's ``conftest.py`` by an explicit import; a fixture one folder needs stays in
that folder's conftest.
"""
