"""Identity resolution: normalise identifiers, then join those seen together into one customer."""
