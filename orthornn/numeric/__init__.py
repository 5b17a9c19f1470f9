"""Numeric layer (numpy/scipy): batched over leading dimensions, float32 and float64."""
