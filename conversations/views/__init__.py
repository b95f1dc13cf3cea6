"""HTML views: `inbox` (the agent inbox and threads) and `review` (the leads' delivery review)."""
