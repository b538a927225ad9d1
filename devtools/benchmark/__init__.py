"""The benchmarks of README "Performance" and "Freshness", one module per concern.

- run: the parent of ``manage.py benchmark`` (fresh databases, a child per phase, the
  report);
- measure: what every child measures with (query counting, peak RSS) and the load it
  generates;
- pipeline, floor, raw_floor: the phases the children run;
- freshness: ``benchmark --freshness``, store-to-store latency through a real cluster.
"""
