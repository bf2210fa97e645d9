"""The schemes the tests check, with the concrete p each is checked at.

Every entry: (spec, list of p). A None p list means the spec fixes p.
"""
CATALOGUE = [
    ("single", [1, 2, 3, 5, 8]),
    ("drop-one", [2, 3, 5, 8]),
    ("pick-one", [1, 2, 3, 5, 8]),
    ("balanced(r=1)", [1, 3, 5]),
    ("balanced(r=2)", [2, 3, 5, 7]),
    ("balanced(r=3)", [3, 4, 5, 7, 8]),
    ("disjoint(r=2)", [2, 4, 6, 8]),
    ("disjoint(r=3)", [3, 6, 9]),
    ("disjoint(r=2, layout=interleaved)", [4, 6, 8]),
    ("disjoint(blocks=[[0,1],[2,3,4]])", None),
    ("disjoint(blocks=[[0,3],[1],[2,4,5]])", None),
    ("all-subsets", [1, 2, 3, 5, 7]),
    ("bernoulli(q=1/3)", [1, 2, 4, 7]),
    ("bernoulli(q=3/4)", [2, 3, 5]),
    ("bernoulli(q=1)", [3]),
    ("size-mixture(sizes={1: 1/3, 4: 2/3})", [4, 5, 7]),
    ("size-mixture(sizes={0: 1/4, 2: 1/4, 3: 1/2})", [3, 5, 6]),
    ("poisson(q=[1/2, 1/3, 1/4])", None),
    ("poisson(q=[1, 1/5, 2/3, 1/2, 3/7])", None),
    ("pick-one(q=[1/2, 1/4, 1/4])", None),
    ("pick-one(q=[1/10, 2/10, 3/10, 4/10, 0.0])", "error"),
    ("drop-one(q=[1/2, 1/3, 1/6])", None),
    ("drop-one(q=[1/7, 1/7, 2/7, 3/7])", None),
    ("stratified(strata=[[0,1,2],[3,4]], r=[1,1])", None),
    ("stratified(strata=[[0,2,4,6],[1,3],[5]], r=[2,1,1])", None),
]


def concrete_cases():
    """(spec, p) pairs of valid schemes; p None for a spec that fixes p."""
    out = []
    for spec, ps in CATALOGUE:
        if ps == "error":
            continue
        out += [(spec, None)] if ps is None else [(spec, p) for p in ps]
    return out


def symbolic_specs():
    """Specs whose p is free (checked symbolically, then at each concrete p)."""
    return [(spec, ps) for spec, ps in CATALOGUE if isinstance(ps, list)]
