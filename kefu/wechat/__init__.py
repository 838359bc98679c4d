"""WeChat's protocol: the Official Account (公众号) and WeCom customer service (微信客服).

Signatures, message crypto and XML (:mod:`kefu.wechat.protocol`), the HTTP API with its shared
access_token (:mod:`kefu.wechat.api`), the state that must survive restarts and be shared by every
process (:mod:`kefu.wechat.state`) and how replies become WeChat text (:mod:`kefu.wechat.replies`).
Nothing here imports Rasa; the Rasa channels are in ``kefu/channels/wechat.py`` and
``wecom_channel.py``.
"""
