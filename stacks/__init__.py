"""Example stacks users copy: `python -m stacks` synthesizes them into cdktf.out/."""
