"""Custom Rasa components and channels, referenced from config.yml and credentials.yml."""
