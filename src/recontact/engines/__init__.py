"""Engines: connect, load and execute. Nothing here knows what a metric means."""
