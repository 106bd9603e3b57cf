"""A realistic, messy sample warehouse for the demo, the tests and the benchmarks.

`warehouse` writes the DuckDB file (customers, products, orders, order_items, events); `vocabulary`
holds the weighted values it draws from, mistakes included, so that every rule has work to do.
"""
