"""Reads the views, the websocket and the actions share (HackSoft-style selectors: typed, keyword-only),
one module per topic: `inbox`, `thread`, `review`, `health`. Import from the topic module; this package
re-exports nothing."""
