"""The classifier's use cases: classify a micro-batch of uploads (`classify_batch`, with
`fetch` and `results`) and forget erased media (`erasure`)."""
