"""Python SDK of the 龙堂智能客服 assistant.

```python
from longtang_sdk import Client

client = Client({"api_key": "YOUR_API_KEY", "endpoint": "http://localhost:5005", "timeout": 5000})
session = client.create_session(user_id="user_123", channel="web", context={"history": []})
response = client.send_message(session_id=session.id, text="如何查询订单?", intent_filter=["query_order"])
print(response.text, response.intent, response.source)
```
"""

from longtang_sdk.async_client import AsyncClient
from longtang_sdk.client import Client
from longtang_sdk.config import ClientConfig
from longtang_sdk.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    LongtangError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TimeoutError,
)
from longtang_sdk.models import BotMessage, Button, Entity, Intent, MessageResponse, Session, Source
from longtang_sdk.version import __version__

__all__ = [
    "APIConnectionError",
    "APIError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "BotMessage",
    "Button",
    "Client",
    "ClientConfig",
    "ConfigurationError",
    "Entity",
    "Intent",
    "LongtangError",
    "MessageResponse",
    "NotFoundError",
    "RateLimitedError",
    "ServerError",
    "Session",
    "Source",
    "TimeoutError",
    "__version__",
]
