"""kefu: the customer-service assistant's library, importable without Rasa."""
