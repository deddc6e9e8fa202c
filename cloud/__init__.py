"""Reference cloud endpoint: device registration, signed event batches, member look-up, branch config."""
