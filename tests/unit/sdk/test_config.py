import pytest

from longtang_sdk import Client, ClientConfig, ConfigurationError
from longtang_sdk.testing import FakeTransport


def test_the_classic_config_dict():
    config = ClientConfig.from_mapping(
        {"api_key": "YOUR_API_KEY", "endpoint": "http://localhost:5005/", "timeout": 5000}
    )
    assert config.api_key == "YOUR_API_KEY"
    assert config.endpoint == "http://localhost:5005"
    assert config.timeout_seconds == 5.0


def test_defaults_need_nothing():
    config = ClientConfig()
    assert (config.endpoint, config.timeout, config.max_retries, config.api_key) == (
        "http://localhost:5005",
        10_000,
        2,
        None,
    )


@pytest.mark.parametrize(
    "settings",
    [
        {"endpoint": "localhost:5005"},
        {"endpoint": "ftp://example.com"},
        {"timeout": 0},
        {"timeout": -5},
        {"timeout": "5000"},
        {"max_retries": -1},
        {"max_retries": 1.5},
        {"api_key": ""},
        {"retry_backoff": -1},
        {"timout": 5000},
    ],
)
def test_bad_settings_fail_fast(settings):
    with pytest.raises(ConfigurationError):
        ClientConfig.from_mapping(settings)


def test_a_misspelt_setting_is_named():
    with pytest.raises(ConfigurationError, match="timout"):
        Client({"timout": 5000})


def test_keyword_arguments_override_the_dict():
    client = Client({"endpoint": "http://a.test", "timeout": 5000}, timeout=1000, transport=FakeTransport([]))
    assert client.config.timeout == 1000
    assert client.config.endpoint == "http://a.test"


def test_a_config_object_is_accepted_as_is():
    config = ClientConfig(endpoint="http://a.test")
    assert Client(config, transport=FakeTransport([])).config is config
