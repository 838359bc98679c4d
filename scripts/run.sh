#!/usr/bin/env bash
# Starts the action server in the background and the Rasa server in the foreground; Ctrl+C stops both.
set -euo pipefail
py=$1 model=$2 rasa_port=$3 action_port=$4

# The action server listens on ACTION_SERVER_HOST (default 127.0.0.1) and answers only calls that carry
# ACTION_SERVER_SECRET; the Rasa server listens on RASA_INTERFACE (default 127.0.0.1) and allows the
# browser origins in ALLOWED_ORIGINS (default: none beyond its own pages). See docs/security.md.
"$py" -m kefu.action_server --actions actions --port "$action_port" &
actions_pid=$!
trap 'kill $actions_pid 2>/dev/null || true' EXIT INT TERM

echo "Waiting for the action server on port $action_port..."
for _ in $(seq 1 120); do
  if curl -fs "http://127.0.0.1:$action_port/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 $actions_pid 2>/dev/null; then echo "The action server failed to start (see above)." >&2; exit 1; fi
  sleep 0.5
done

echo "Starting the assistant on http://localhost:$rasa_port (REST /webhooks/rest/webhook, socket.io /socket.io)"
"$py" -m kefu.rasa_cli run --model "$model" --port "$rasa_port" \
  --credentials credentials.yml --endpoints endpoints.yml
