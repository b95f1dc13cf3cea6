"""Hub sandbox: a local emulator of the Hub Chatt2.me API (imports nothing from the product)."""
