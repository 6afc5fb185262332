"""Metric definitions, written once as engine-neutral Ibis expressions.

One module per family: ``windows`` (trailing counts), ``callers`` (who calls: top callers).
Engines only connect and execute; nothing here knows which engine runs it.
"""
