"""Conformance suite for the Google emulator, driven by the real google-api-python-client."""
