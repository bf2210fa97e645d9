"""The numeric layer (numpy, scipy): fields, schedules, integrators, the Monte Carlo engine,
metrics, rate fitting. It may import ``rbmtheory``; ``rbmtheory`` never imports it."""
