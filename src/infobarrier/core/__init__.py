"""The pure core: directory model, filter language, barrier rules, compiler and decisions.

Nothing in here performs I/O; every function takes values and returns values.
"""
