"""How many rows the readers take per query when they stream."""

CHUNK = 1000
