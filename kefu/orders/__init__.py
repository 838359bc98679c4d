"""Orders: the shop's rules for refunds, cancellation and address changes, and the service applying them."""
