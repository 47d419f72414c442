"""Benchmarks: `make bench` (see README, Benchmarks). Not part of the product."""
