"""Reports and the command line: the layer that sits on top of ``rbmtheory`` (symbolic)
and ``numerics`` (numeric)."""
