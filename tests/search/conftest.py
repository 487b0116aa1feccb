"""Imports shared by the search tests, made when the tests are collected.

`make mutate` (benchmarks/mutate_module.py) runs mutmut, which forks every mutant's test run from a process that
has collected the tests: a library imported here is imported once for the whole run instead of once per mutant
(LanceDB takes about 3 s to import and gensim, whose test data the Lee corpus fixtures read, about 2 s; a mutant's
tests take less than that).
"""

from __future__ import annotations

import gensim  # noqa: F401
import lancedb  # noqa: F401
