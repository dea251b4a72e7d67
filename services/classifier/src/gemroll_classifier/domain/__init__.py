"""Pure rules of the classifier: pixel statistics, categories, quality, gems, near duplicates.

Only the standard library and numpy; no I/O, no torch, no Kafka.
"""
