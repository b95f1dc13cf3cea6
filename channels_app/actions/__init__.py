"""Writes for the settings area and the Hub's webhooks, one module per topic: `applications`, `channels`,
`webhooks`, `recovery`, `team` (shared: `common`). Import from the topic module; this package re-exports
nothing."""
