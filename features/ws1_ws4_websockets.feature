Feature: WS1–WS4 on the nRF7002 DK: the azure_iot_hub sample over MQTT over WebSockets on port 443
  The forum user patched mqtt_helper to use Zephyr's WebSocket transport
  (the `websocket_patch` setting), set CONFIG_MQTT_LIB_WEBSOCKET and
  CONFIG_MQTT_HELPER_PORT=443 and turned on mbedTLS's debug lines. The real
  hub asks for the client certificate on 443 by renegotiating after the
  WebSocket request (unless it carries `iothub-no-client-cert=true`); the
  emulator cannot renegotiate, so the device's TLS stack plays the part it
  would play against the real hub. Each scenario ends in what the board
  printed, then the fix connects.

  Background:
    Given an IoT hub "modemsim-hub.azure-devices.net" on 2024-06-01
    And the user's own root CA "My Root CA"
    And a device certificate for "nrf7002dk-01" signed by "My Root CA"
    And the hub has "My Root CA" uploaded and verified
    And the hub has a device "nrf7002dk-01" authenticated by its CA
    And the application's boards/nrf7002dk_nrf5340_cpuapp.conf is:
      """
      CONFIG_WIFI=y
      CONFIG_WIFI_NRF700X=y
      CONFIG_WIFI_MGMT_EXT=y
      CONFIG_WIFI_CREDENTIALS=y
      CONFIG_WIFI_CREDENTIALS_STATIC=y
      CONFIG_WIFI_CREDENTIALS_STATIC_SSID="modemsim-ap"
      CONFIG_WIFI_CREDENTIALS_STATIC_PASSWORD="modemsim-pass"
      CONFIG_NET_SOCKETS_SOCKOPT_TLS=y
      CONFIG_MBEDTLS=y
      """
    And the application's mqtt-certs.h is the forum's
    And the application's ca-cert.pem is the real "DigiCert Global Root G2", as C string literals
    And the application's client-cert.pem is the device certificate, as C string literals
    And the application's private-key.pem is the device key, as C string literals
    And an nRF7002 DK on the hub's network running the Zephyr shell

  Scenario: WS1 no renegotiation: the hub's renegotiation closes the connection, then CONFIG_MBEDTLS_SSL_RENEGOTIATION connects (WS3)
    Given the sample's settings are:
      """
      {"websocket_patch": true}
      """
    When the board is flashed with the azure_iot_hub sample for the nRF7002 DK built from:
      """
      CONFIG_AZURE_IOT_HUB=y
      CONFIG_AZURE_IOT_HUB_DEVICE_ID="nrf7002dk-01"
      CONFIG_AZURE_IOT_HUB_HOSTNAME="modemsim-hub.azure-devices.net"
      CONFIG_MQTT_HELPER_SEC_TAG=10
      CONFIG_MQTT_HELPER_PROVISION_CERTIFICATES=y
      CONFIG_MQTT_HELPER_CERTIFICATES_FILE="mqtt-certs.h"
      CONFIG_MQTT_LIB_WEBSOCKET=y
      CONFIG_WEBSOCKET_CLIENT=y
      CONFIG_MQTT_HELPER_PORT=443
      CONFIG_NET_LOG=y
      CONFIG_MBEDTLS_DEBUG=y
      CONFIG_MBEDTLS_DEBUG_C=y
      CONFIG_MBEDTLS_DEBUG_LEVEL=3
      CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN=4096
      """
    Then the sample logs:
      """
      <inf> wifi_mgmt_ext: Connection requested
      <inf> azure_iot_hub_sample: Device ID: nrf7002dk-01
      <inf> net_dhcpv4: Received: 192.168.1.2
      <inf> azure_iot_hub_sample: Network connectivity established and IP address assigned
      <inf> azure_iot_hub_sample: Connected to network
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTING
      <wrn> mbedtls: ssl_tls.c:3914: => handshake
      <wrn> mbedtls: ssl_msg.c:2358: => flush output
      <wrn> mbedtls: ssl_msg.c:2367: <= flush output
      <wrn> mbedtls: ssl_tls.c:3934: <= handshake
      <inf> mbedtls: ssl_msg.c:5536: refusing renegotiation, sending alert
      <err> mbedtls: ssl_msg.c:3827: mbedtls_ssl_fetch_input() returned -29312 (-0x7280)
      <err> mqtt_helper: mqtt_connect, error: -113
      <err> azure_iot_hub_sample: azure_iot_hub_connect failed: -113
      """
    When the user adds "CONFIG_MBEDTLS_SSL_RENEGOTIATION=y" and flashes the sample again
    Then the sample logs:
      """
      <wrn> mbedtls: ssl_tls.c:3914: => handshake
      <wrn> mbedtls: ssl_tls.c:3934: <= handshake
      <inf> azure_iot_hub_sample: Connection request sent to IoT Hub
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTED
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_READY
      <inf> azure_iot_hub_sample: Event was successfully sent
      """

  Scenario: WS2 the patch requests mqtt_publisher's path: HTTP 400 on the upgrade, then the hub's path connects
    Given the sample's settings are:
      """
      {"websocket_patch": true, "websocket_path": "/mqtt"}
      """
    When the board is flashed with the azure_iot_hub sample for the nRF7002 DK built from:
      """
      CONFIG_AZURE_IOT_HUB=y
      CONFIG_AZURE_IOT_HUB_DEVICE_ID="nrf7002dk-01"
      CONFIG_AZURE_IOT_HUB_HOSTNAME="modemsim-hub.azure-devices.net"
      CONFIG_MQTT_HELPER_SEC_TAG=10
      CONFIG_MQTT_HELPER_PROVISION_CERTIFICATES=y
      CONFIG_MQTT_HELPER_CERTIFICATES_FILE="mqtt-certs.h"
      CONFIG_MQTT_LIB_WEBSOCKET=y
      CONFIG_MQTT_HELPER_PORT=443
      CONFIG_MBEDTLS_SSL_RENEGOTIATION=y
      """
    Then the sample logs:
      """
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTING
      <err> mqtt_helper: mqtt_connect, error: -113
      <err> azure_iot_hub: mqtt_helper_connect failed, error: -113
      <err> azure_iot_hub_sample: azure_iot_hub_connect failed: -113
      """
    And the hub's reason is "websocket-upgrade"
    Given the sample's settings are:
      """
      {"websocket_patch": true, "websocket_subprotocol": "none"}
      """
    When the user flashes the sample with the new settings
    Then the sample logs:
      """
      <err> mqtt_helper: mqtt_connect, error: -113
      <err> azure_iot_hub_sample: azure_iot_hub_connect failed: -113
      """
    Given the sample's settings are:
      """
      {"websocket_patch": true, "websocket_path": "/$iothub/websocket"}
      """
    When the user flashes the sample with the new settings
    Then the sample logs:
      """
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTED
      <inf> azure_iot_hub_sample: Event was successfully sent
      """

  Scenario: WS4 an incoming record limit below the hub's Certificate message, then 4096
    Given the sample's settings are:
      """
      {"websocket_patch": true}
      """
    When the board is flashed with the azure_iot_hub sample for the nRF7002 DK built from:
      """
      CONFIG_AZURE_IOT_HUB=y
      CONFIG_AZURE_IOT_HUB_DEVICE_ID="nrf7002dk-01"
      CONFIG_AZURE_IOT_HUB_HOSTNAME="modemsim-hub.azure-devices.net"
      CONFIG_MQTT_HELPER_SEC_TAG=10
      CONFIG_MQTT_HELPER_PROVISION_CERTIFICATES=y
      CONFIG_MQTT_HELPER_CERTIFICATES_FILE="mqtt-certs.h"
      CONFIG_MQTT_LIB_WEBSOCKET=y
      CONFIG_MQTT_HELPER_PORT=443
      CONFIG_MBEDTLS_SSL_RENEGOTIATION=y
      CONFIG_NET_LOG=y
      CONFIG_MBEDTLS_DEBUG=y
      CONFIG_MBEDTLS_DEBUG_C=y
      CONFIG_MBEDTLS_DEBUG_LEVEL=1
      CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN=2048
      """
    Then the sample logs:
      """
      <err> mbedtls: ssl_msg.c:3636: bad message length
      <err> mbedtls: ssl_msg.c:3782: mbedtls_ssl_read_record() returned -29184 (-0x7200)
      <err> net_sock_tls: TLS handshake error: -0x7200
      <err> mqtt_helper: mqtt_connect, error: -113
      <err> azure_iot_hub_sample: azure_iot_hub_connect failed: -113
      """
    When the user changes CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN to 4096 and flashes the sample again
    Then the sample logs:
      """
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTED
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_READY
      <inf> azure_iot_hub_sample: Event was successfully sent
      """
