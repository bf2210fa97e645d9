"""From a spec string (:mod:`rbmtheory.spec`) to a scheme object.

Names of the grammar and the classes they build; ``pick-one`` and ``drop-one`` build
the weighted classes when ``q=[...]`` is given. ``family(path.json)`` reads a file.
"""
from __future__ import annotations

from typing import Any

from rbmtheory.errors import RBMInputError
from rbmtheory.schemes.base import Scheme
from rbmtheory.schemes.exchangeable import AllSubsets, Balanced, Bernoulli, DropOne, PickOne, Single, SizeMixture
from rbmtheory.schemes.finite import Family, WeightedDropOne, WeightedPickOne
from rbmtheory.schemes.independent import Poisson
from rbmtheory.schemes.partition import Disjoint
from rbmtheory.schemes.stratified import Stratified
from rbmtheory.spec import SpecCall, parse_spec

#: spec name -> the classes it may build (the first whose parameters fit the arguments)
REGISTRY: dict[str, tuple[type[Scheme], ...]] = {
    "single": (Single,),
    "drop-one": (DropOne, WeightedDropOne),
    "pick-one": (PickOne, WeightedPickOne),
    "balanced": (Balanced,),
    "disjoint": (Disjoint,),
    "all-subsets": (AllSubsets,),
    "bernoulli": (Bernoulli,),
    "size-mixture": (SizeMixture,),
    "poisson": (Poisson,),
    "stratified": (Stratified,),
    "family": (Family,),
}


def scheme_from_spec(spec: str | SpecCall, p: Any = None) -> Scheme:
    """Build the scheme a spec names, with ``p`` neurons (None: symbolic p).

    >>> scheme_from_spec("balanced(r=3)", p=7)
    <balanced(r=3) p=7>
    >>> scheme_from_spec("bernoulli(q=q)")
    <bernoulli(q=q) p=p>
    """
    call = parse_spec(spec) if isinstance(spec, str) else spec
    if call.name not in REGISTRY:
        raise RBMInputError(f"unknown scheme {call.name!r}; known: {', '.join(REGISTRY)}")
    if call.name == "family":
        return _family(call, p)
    given = set(call.args)
    for cls in REGISTRY[call.name]:
        if given <= set(cls.params) and (given or not _requires_args(cls)):
            return cls(**call.args, p=p)
    expected = " or ".join(", ".join(cls.params) or "no arguments" for cls in REGISTRY[call.name])
    raise RBMInputError(f"{call.name} takes {expected}; got {', '.join(sorted(given)) or 'none'}")


def _requires_args(cls: type[Scheme]) -> bool:
    return bool(cls.params) and cls is not Disjoint


def _family(call: SpecCall, p: Any) -> Scheme:
    if set(call.args) != {"path"}:
        raise RBMInputError("family takes one file path: family(path/to/file.json)")
    scheme = Family.from_file(call.args["path"])
    return scheme if p is None else scheme.at(p)
