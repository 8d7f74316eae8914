"""The browser tests find Chromium wherever it is installed, and fail (never skip)
when it is missing."""

import pytest

from tests.support.browser import find_chromium


def _executable(path):
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_chromium_on_the_path_is_found(tmp_path, monkeypatch):
    chromium = _executable(tmp_path / "chromium")
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_chromium() == str(chromium)


def test_the_chromium_variable_names_it(tmp_path, monkeypatch):
    browser = _executable(tmp_path / "my-chrome")
    monkeypatch.setenv("CHROMIUM", str(browser))
    assert find_chromium() == str(browser)


def test_a_missing_chromium_is_an_error_that_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="install it or set CHROMIUM"):
        find_chromium(candidates=("chromium", str(tmp_path / "bin" / "chromium")))


def test_a_wrong_chromium_variable_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "nothing-here"))
    with pytest.raises(FileNotFoundError, match="is not an executable"):
        find_chromium()
