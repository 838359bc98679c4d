"""How the assistant runs in production: Rasa's endpoints and the services behind them."""
