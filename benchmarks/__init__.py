"""odibi-ext's benchmarks on pyperf: ``python -m benchmarks`` (see benchmarks/README.md)."""
