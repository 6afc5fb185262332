"""recontact: find the people stuck in a support loop, give each an owner, measure the cost."""

__version__ = "0.1.0"
