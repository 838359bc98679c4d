"""Rasa NLU components named in config.yml.

Normalise the text, embed it, classify intents, rewrite them by context, filter them.
"""
