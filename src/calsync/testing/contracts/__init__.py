"""Contract test suites (pytest) that every implementation of a calsync contract subclasses.

Hosts use them to test their own adapters: subclass the suite, provide the fixture it asks for,
and pytest runs every behaviour calsync relies on against your implementation.
"""
