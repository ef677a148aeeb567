import requests

from tests.fakes.server import LiveServer


def hello_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["PATH_INFO"].encode()]


def test_live_server_serves_and_stops():
    with LiveServer(hello_app) as server:
        assert requests.get(server.url + "/ping", timeout=2).text == "/ping"
    try:
        requests.get(server.url + "/ping", timeout=0.5)
    except requests.ConnectionError:
        pass
    else:
        raise AssertionError("server still answering after stop()")
