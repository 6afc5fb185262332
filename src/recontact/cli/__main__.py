"""``python -m recontact.cli``: the same as the ``recontact`` command."""

from recontact.cli.main import main

main()
