"""``python -m resolver.cli``: the ``lienhop`` command, run by this interpreter (how
``lienhop demo run`` starts its children, whatever PATH holds)."""

from resolver.cli.main import main

main(prog_name="lienhop")
