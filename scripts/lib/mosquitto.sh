# Mosquitto, the MQTT broker the Frigate bridge tests start on a free port. Sourced after common.sh.

# Debian installs the broker in /usr/sbin, which is not on every user's PATH.
mosquitto_bin() {
  command -v mosquitto 2>/dev/null || { [ -x /usr/sbin/mosquitto ] && echo /usr/sbin/mosquitto; }
}

# Installs Debian's mosquitto when missing (as root or with sudo); otherwise names the command and goes on,
# and the MQTT tests skip saying why.
ensure_mosquitto() {
  mosquitto_bin >/dev/null && return 0
  if ! as_root true; then
    echo "The Frigate MQTT tests need Mosquitto and will be skipped." \
      "Run: sudo apt-get update && sudo apt-get install -y mosquitto" >&2
    return 0
  fi
  say "installing mosquitto"
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq mosquitto >&2
  # The package may start a system-wide broker on 1883; the tests never use it, so it is left alone.
  mosquitto_bin >/dev/null
}
