"""The shop's product catalog: import, product matching and pre-sales answers (no Rasa here)."""
