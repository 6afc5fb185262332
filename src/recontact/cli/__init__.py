"""The command-line interface: thin wrappers over ``recontact.desk``."""
