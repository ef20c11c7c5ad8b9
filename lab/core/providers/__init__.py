"""One module per provider API family, plus the shared streaming, retry and cost machinery."""
