"""Development tools, not the domain: demo data, the load generator and the benchmark."""
