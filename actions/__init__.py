"""Rasa custom actions: thin adapters from the tracker to the services in :mod:`kefu`."""

# The action server's logs carry customers' messages: mask phone numbers and tokens in them.
from kefu.security.masking import install_log_masking

install_log_masking()
