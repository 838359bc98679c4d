"""Rasa custom actions: thin adapters from the tracker to the services in :mod:`kefu`.

The action server's logs carry customers' messages: :mod:`kefu.action_server` masks phone numbers and
tokens in them (:func:`kefu.runtime.patches.install_action_server`) before it loads this package.
"""
