"""The pure billing core: money, terms, prices and quotes. Standard library only, no I/O, no clock."""
