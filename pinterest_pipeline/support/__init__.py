"""Small helpers every stage uses: DuckDB sessions and identifiers, bound parameters, Arrow bytes,
the pipeline database's column storage and the files shipped inside the package."""
