"""The pure billing core: money, terms, prices, quotes. Standard library only; no I/O, no clock."""
