"""One formatter module per output format; each turns analysis results into text.

Formatters never compute reachability themselves, so every format shows
the same answer.
"""
