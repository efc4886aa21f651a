# Shell helpers the scripts share; from the repository folder: `. scripts/common.sh`.

# A free TCP port on 127.0.0.1, picked at random in 20000-32000: below the kernel's ephemeral range, so an outgoing
# connection cannot take it between this check and the server's bind.
free_port() {
    python3 -c 'import socket, random
while True:
    p = random.randint(20000, 32000); s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        s.close()'
}

# A config.yaml for a test instance: FILE STREAM_PORT ADMIN_PORT INSTANCE_ID, the documented admin key, logs at notice.
instance_config() {
    cat > "$1" <<YAML
apisix:
  stream_proxy:
    tcp: ["127.0.0.1:$2"]
deployment:
  admin:
    admin_key: [{name: admin, key: edd1c9f034335f136f87ad84b625c8f1, role: admin}]
    admin_listen: {ip: 127.0.0.1, port: $3}
mqtt_proxy:
  instance_id: $4
  log_level: notice
YAML
}
