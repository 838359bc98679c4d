"""The WeChat channels' settings (read from the environment in :mod:`kefu.settings`)."""

from __future__ import annotations

from dataclasses import dataclass

WECHAT_API = "https://api.weixin.qq.com"
WECOM_API = "https://qyapi.weixin.qq.com"
AES_KEY_CHARS = 43


@dataclass(frozen=True)
class WechatSettings:
    """Both channels' settings; a channel whose token is empty is off."""

    mp_app_id: str = ""
    mp_app_secret: str = ""
    mp_token: str = ""
    mp_aes_key: str = ""  # empty: plain mode
    wecom_corp_id: str = ""
    wecom_secret: str = ""
    wecom_token: str = ""
    wecom_aes_key: str = ""
    wecom_open_kfid: str = ""  # empty: every customer-service account of the corp
    # True: a WeCom customer queued for a human moves to WeCom's own agents (service_state/trans)
    # instead of the handoff desk's agents.
    wecom_handoff_to_pool: bool = False
    api_base: str = WECHAT_API
    wecom_api_base: str = WECOM_API
    # WeChat waits 5 s for a passive reply; a slower answer goes out through the send API.
    passive_reply_seconds: float = 4.5

    @property
    def mp_enabled(self) -> bool:
        return bool(self.mp_token)

    @property
    def wecom_enabled(self) -> bool:
        return bool(self.wecom_token)

    def checked(self, production: bool) -> WechatSettings:
        """These settings, or ValueError naming what is missing or malformed and how to fix it."""
        if self.passive_reply_seconds >= 5:
            raise ValueError("WECHAT_PASSIVE_REPLY_SECONDS must be below 5: WeChat gives up after 5 seconds")
        for name, value in (("WECHAT_API_BASE", self.api_base), ("WECOM_API_BASE", self.wecom_api_base)):
            if not value.startswith(("https://", "http://")):
                raise ValueError(f"{name}={value!r} must be a URL such as {WECHAT_API}")
        for name, key in (("WECHAT_MP_AES_KEY", self.mp_aes_key), ("WECOM_AES_KEY", self.wecom_aes_key)):
            if key and len(key) != AES_KEY_CHARS:
                raise ValueError(f"{name} must be the 43-character EncodingAESKey from WeChat's console")
        mp = {"WECHAT_MP_APP_ID": self.mp_app_id, "WECHAT_MP_TOKEN": self.mp_token}
        if production:
            mp["WECHAT_MP_APP_SECRET"] = self.mp_app_secret
        wecom = {
            "WECOM_CORP_ID": self.wecom_corp_id,
            "WECOM_SECRET": self.wecom_secret,
            "WECOM_TOKEN": self.wecom_token,
            "WECOM_AES_KEY": self.wecom_aes_key,
        }
        for channel, needed in (("公众号 (wechat)", mp), ("WeCom (wecom)", wecom)):
            missing = [name for name, value in needed.items() if not value]
            if missing and len(missing) < len(needed):
                raise ValueError(
                    f"The {channel} channel is half configured: set {', '.join(missing)} "
                    "(from WeChat's developer console), or unset its settings to turn it off"
                )
        return self
