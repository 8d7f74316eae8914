"""Code the tests share (the fixtures themselves live in tests/conftest.py)."""
