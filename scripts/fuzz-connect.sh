#!/usr/bin/env bash
# Fuzzes the MQTT CONNECT decoder (and the framing) with libFuzzer + AddressSanitizer: scripts/fuzz.sh connect.
# Usage: scripts/fuzz-connect.sh [SECONDS] [RUNS]   (default 60 s)
exec "$(dirname "$0")/fuzz.sh" connect "$@"
