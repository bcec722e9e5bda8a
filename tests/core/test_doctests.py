"""The examples in the docstrings of alliance.core run and give what they show."""

import doctest
import importlib
import pkgutil

import pytest

import alliance.core

MODULES = sorted(info.name for info in pkgutil.walk_packages(alliance.core.__path__,
                                                             prefix="alliance.core."))


@pytest.mark.parametrize("name", MODULES)
def test_the_docstring_examples_of_each_core_module_hold(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed"


def test_the_statistical_modules_have_examples():
    for name in ("change", "psychometrics", "mixed", "expected", "scoring"):
        module = importlib.import_module(f"alliance.core.{name}")
        finder = doctest.DocTestFinder()
        assert sum(len(test.examples) for test in finder.find(module)) >= 3, name
