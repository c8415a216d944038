"""One module per scenario: its approaches, the checks of its warm-up, its measuring."""
