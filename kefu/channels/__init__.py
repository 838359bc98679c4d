"""The HTTP channels customers and staff reach the assistant through, named in credentials.yml."""
