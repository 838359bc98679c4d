"""Security: customer tokens, field encryption and masking of personal data."""
