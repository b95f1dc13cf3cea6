"""HTML views: `inbox` (the agent inbox and threads), `review` (the leads' delivery review) and `health`
(the settings area's health panel)."""
