"""The staff side of the assistant: accounts, roles, tokens, knowledge editing, the handoff desk.

Services only, importable without Rasa; the HTTP layer is :mod:`kefu.channels.admin`.
"""
