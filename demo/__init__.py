"""`make demo`: the 2026 cycle end to end on a simulated clock (invented data, clearly marked)."""
