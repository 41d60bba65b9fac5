Feature: W1–W4 on the nRF7002 DK: the azure_iot_hub sample over Wi-Fi, its certificates from the shell or mqtt-certs.h
  The nRF7002 DK has no modem, so the cellular tools cannot reach its
  certificates. They go in through the Zephyr shell's `cred` commands (which
  nrfcredstore's TLS shell interface drives in 48-character base64 chunks)
  or are compiled in from mqtt-certs.h (CONFIG_MQTT_HELPER_PROVISION_CERTIFICATES),
  whose PEM files are C string-literal lines, as in the forum post. The
  sample is then flashed from the user's prj.conf and board fragment, joins
  the board's Wi-Fi access point and connects to the emulated hub; the board
  prints what the forum user's printed (timestamps aside), then the fix
  connects.

  Background:
    Given an IoT hub "modemsim-hub.azure-devices.net" on 2024-06-01
    And the user's own root CA "My Root CA"
    And a device certificate for "nrf7002dk-01" signed by "My Root CA"
    And the hub has "My Root CA" uploaded and verified
    And the hub has a device "nrf7002dk-01" authenticated by its CA
    And the application's boards/nrf7002dk_nrf5340_cpuapp.conf is:
      """
      # Wi-Fi
      CONFIG_WIFI=y
      CONFIG_WIFI_NRF700X=y
      CONFIG_WIFI_MGMT_EXT=y
      CONFIG_WIFI_CREDENTIALS=y
      CONFIG_WIFI_CREDENTIALS_STATIC=y
      CONFIG_WPA_SUPP=y
      CONFIG_WPA_SUPP_LOG_LEVEL_ERR=y
      CONFIG_WIFI_CREDENTIALS_STATIC_SSID="modemsim-ap"
      CONFIG_WIFI_CREDENTIALS_STATIC_PASSWORD="modemsim-pass"
      # TLS networking
      CONFIG_NET_SOCKETS_SOCKOPT_TLS=y
      CONFIG_MBEDTLS=y
      CONFIG_MBEDTLS_RSA_C=y
      # FOTA
      CONFIG_AZURE_FOTA=y
      """

  Scenario: W1 the certificates went to another sec tag than the sample uses
    Given an nRF7002 DK on the hub's network running the Zephyr shell with a 4096-byte credential buffer
    When the user provisions the real "DigiCert Global Root G2" to sec tag 11 as CA with nrfcredstore's TLS shell interface
    And the user provisions the device certificate to sec tag 11 as SERV with nrfcredstore's TLS shell interface
    And the user provisions the device key to sec tag 11 as PK with nrfcredstore's TLS shell interface
    And the user types "cred list 10"
    Then the shell prints "0 credentials found."
    When the board is flashed with the azure_iot_hub sample for the nRF7002 DK built from:
      """
      CONFIG_LOG=y
      CONFIG_AZURE_IOT_HUB=y
      CONFIG_AZURE_IOT_HUB_DEVICE_ID="nrf7002dk-01"
      CONFIG_AZURE_IOT_HUB_HOSTNAME="modemsim-hub.azure-devices.net"
      CONFIG_MQTT_HELPER_SEC_TAG=10
      CONFIG_MQTT_HELPER_SECONDARY_SEC_TAG=-1
      CONFIG_TLS_CREDENTIALS_BACKEND_PROTECTED_STORAGE=y
      CONFIG_AZURE_IOT_HUB_LOG_LEVEL_DBG=y
      CONFIG_MQTT_KEEPALIVE=1767
      """
    Then the sample logs:
      """
      *** Booting nRF Connect SDK v2.5.0 ***
      <inf> azure_iot_hub_sample: Azure IoT Hub sample started
      <inf> azure_iot_hub_sample: Bringing network interface up and connecting to the network
      <inf> azure_iot_hub_sample: Device ID: nrf7002dk-01
      <inf> azure_iot_hub_sample: Host name: modemsim-hub.azure-devices.net
      <inf> azure_iot_hub_sample: Network connectivity established and IP address assigned
      <inf> azure_iot_hub_sample: Connected to network
      <inf> azure_fota: Current firmware version: 0.0.0-dev
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTING
      <dbg> azure_iot_hub: azure_iot_hub_connect: User name buffer size is 160, actual user name size is: 107
      <err> mqtt_helper: mqtt_connect, error: -2
      <err> azure_iot_hub: mqtt_helper_connect failed, error: -2
      <dbg> azure_iot_hub: iot_hub_state_set: State transition: STATE_CONNECTING --> STATE_DISCONNECTED
      <err> azure_iot_hub_sample: azure_iot_hub_connect failed: -2
      """
    When the user changes CONFIG_MQTT_HELPER_SEC_TAG to 11 and flashes the sample again
    Then the sample logs:
      """
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTED
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_READY
      <inf> azure_iot_hub_sample: Event was successfully sent
      """

  Scenario: W1 the library's placeholder mqtt-certs.h: nothing is provisioned
    Given an nRF7002 DK on the hub's network running the Zephyr shell
    And the application's mqtt-certs.h is:
      """
      static const unsigned char ca_certificate[] = {
      ""
      };
      static const unsigned char private_key[] = {
      ""
      };
      static const unsigned char device_certificate[] = {
      ""
      };
      """
    When the board is flashed with the azure_iot_hub sample for the nRF7002 DK built from:
      """
      CONFIG_AZURE_IOT_HUB=y
      CONFIG_AZURE_IOT_HUB_DEVICE_ID="nrf7002dk-01"
      CONFIG_AZURE_IOT_HUB_HOSTNAME="modemsim-hub.azure-devices.net"
      CONFIG_MQTT_HELPER_SEC_TAG=10
      CONFIG_MQTT_HELPER_SECONDARY_SEC_TAG=-1
      CONFIG_MQTT_HELPER_PROVISION_CERTIFICATES=y
      CONFIG_MQTT_HELPER_CERTIFICATES_FILE="mqtt-certs.h"
      """
    Then the sample logs:
      """
      <err> mqtt_helper: mqtt_connect, error: -2
      <err> azure_iot_hub: mqtt_helper_connect failed, error: -2
      <err> azure_iot_hub_sample: azure_iot_hub_connect failed: -2
      """

  Scenario: W2 made-up PEM labels in mqtt-certs.h are stored, then refused by mbedTLS; the standard labels connect
    Given an nRF7002 DK on the hub's network running the Zephyr shell
    And the application's mqtt-certs.h is the forum's
    And the application's ca-cert.pem is the file "ca-cert-ca-labels.pem"
    And the application's client-cert.pem is the device certificate, as C string literals
    And the application's private-key.pem is the device key, as C string literals
    When the board is flashed with the azure_iot_hub sample for the nRF7002 DK built from:
      """
      CONFIG_LOG=y
      CONFIG_AZURE_IOT_HUB=y
      CONFIG_AZURE_IOT_HUB_DEVICE_ID="nrf7002dk-01"
      CONFIG_AZURE_IOT_HUB_HOSTNAME="modemsim-hub.azure-devices.net"
      CONFIG_MQTT_HELPER_SEC_TAG=10
      CONFIG_MQTT_HELPER_SECONDARY_SEC_TAG=-1
      CONFIG_MQTT_HELPER_PROVISION_CERTIFICATES=y
      CONFIG_MQTT_HELPER_CERTIFICATES_FILE="mqtt-certs.h"
      CONFIG_AZURE_IOT_HUB_LOG_LEVEL_DBG=y
      """
    Then the sample logs:
      """
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTING
      <dbg> azure_iot_hub: azure_iot_hub_connect: User name: modemsim-hub.azure-devices.net/nrf7002dk-01/?api-version=2020-09-30&DeviceClientType=azsdk-c%2F1.4.0-beta.2
      <err> mqtt_helper: mqtt_connect, error: -22
      <err> azure_iot_hub: mqtt_helper_connect failed, error: -22
      <dbg> azure_iot_hub: iot_hub_state_set: State transition: STATE_CONNECTING --> STATE_DISCONNECTED
      <err> azure_iot_hub_sample: azure_iot_hub_connect failed: -22
      """
    When the user adds "CONFIG_NET_LOG=y" and flashes the sample again
    Then the sample logs:
      """
      <err> net_sock_tls: Failed to parse CA certificate, err: -0x21e2
      <err> mqtt_helper: mqtt_connect, error: -22
      """
    When the application's ca-cert.pem is the file "ca-cert-fixed.pem"
    And the user flashes the sample again
    Then the sample logs:
      """
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTED
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_READY
      <inf> azure_iot_hub_sample: Event was successfully sent
      """

  Scenario: W3 the CA used as the device certificate: TLS succeeds, the hub refuses the identity
    Given an nRF7002 DK on the hub's network running the Zephyr shell
    And the application's mqtt-certs.h is the forum's
    And the application's ca-cert.pem is the real "DigiCert Global Root G2", as C string literals
    And the application's client-cert.pem is the certificate of "My Root CA", as C string literals
    And the application's private-key.pem is the key of "My Root CA", as C string literals
    When the board is flashed with the azure_iot_hub sample for the nRF7002 DK built from:
      """
      CONFIG_AZURE_IOT_HUB=y
      CONFIG_AZURE_IOT_HUB_DEVICE_ID="nrf7002dk-01"
      CONFIG_AZURE_IOT_HUB_HOSTNAME="modemsim-hub.azure-devices.net"
      CONFIG_MQTT_HELPER_SEC_TAG=10
      CONFIG_MQTT_HELPER_SECONDARY_SEC_TAG=-1
      CONFIG_MQTT_HELPER_PROVISION_CERTIFICATES=y
      CONFIG_MQTT_HELPER_CERTIFICATES_FILE="mqtt-certs.h"
      CONFIG_AZURE_IOT_HUB_LOG_LEVEL_DBG=y
      CONFIG_MQTT_HELPER_LOG_LEVEL_DBG=y
      """
    Then the sample logs:
      """
      <inf> azure_iot_hub_sample: Connection request sent to IoT Hub
      <err> azure_iot_hub: Connection was rejected with return code 5
      <wrn> azure_iot_hub: Is the device certificate valid?
      <dbg> azure_iot_hub: iot_hub_state_set: State transition: STATE_CONNECTING --> STATE_DISCONNECTED
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTION_FAILED
      <inf> azure_iot_hub_sample: Error code received from IoT Hub: 5
      <dbg> mqtt_helper: mqtt_evt_handler: MQTT_EVT_DISCONNECT: result = -111
      <wrn> azure_iot_hub: DISCONNECT, result: -111
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_DISCONNECTED
      <err> mqtt_helper: Cloud MQTT input error: -111
      """
    And the emulator's reason is "x509-common-name" for device "nrf7002dk-01"
    When the application's client-cert.pem is the device certificate, as C string literals
    And the application's private-key.pem is the device key, as C string literals
    And the user flashes the sample again
    Then the sample logs:
      """
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTED
      <inf> azure_iot_hub_sample: Event was successfully sent
      """

  Scenario: W4 Baltimore only after the migration, then DigiCert Global Root G2
    Given an nRF7002 DK on the hub's network running the Zephyr shell
    And the application's mqtt-certs.h is the forum's
    And the application's ca-cert.pem is the real "Baltimore CyberTrust Root", as C string literals
    And the application's client-cert.pem is the device certificate, as C string literals
    And the application's private-key.pem is the device key, as C string literals
    When the board is flashed with the azure_iot_hub sample for the nRF7002 DK built from:
      """
      CONFIG_AZURE_IOT_HUB=y
      CONFIG_AZURE_IOT_HUB_DEVICE_ID="nrf7002dk-01"
      CONFIG_AZURE_IOT_HUB_HOSTNAME="modemsim-hub.azure-devices.net"
      CONFIG_MQTT_HELPER_SEC_TAG=10
      CONFIG_MQTT_HELPER_SECONDARY_SEC_TAG=-1
      CONFIG_MQTT_HELPER_PROVISION_CERTIFICATES=y
      CONFIG_MQTT_HELPER_CERTIFICATES_FILE="mqtt-certs.h"
      CONFIG_NET_LOG=y
      """
    Then the sample logs:
      """
      <err> net_sock_tls: TLS handshake error: -0x2700
      <err> mqtt_helper: mqtt_connect, error: -113
      <err> azure_iot_hub: mqtt_helper_connect failed, error: -113
      <err> azure_iot_hub_sample: azure_iot_hub_connect failed: -113
      """
    And the board's transcript says the real "Baltimore CyberTrust Root" was replaced by its stand-in
    When the application's ca-cert.pem is the real "DigiCert Global Root G2", as C string literals
    And the application's client-cert.pem is the certificate of "My Root CA", as C string literals
    And the application's private-key.pem is the key of "My Root CA", as C string literals
    And the user flashes the sample again
    Then the sample logs:
      """
      <err> azure_iot_hub: Connection was rejected with return code 5
      <err> mqtt_helper: Cloud MQTT input error: -111
      """
    When the application's client-cert.pem is the device certificate, as C string literals
    And the application's private-key.pem is the device key, as C string literals
    And the user flashes the sample again
    Then the sample logs:
      """
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTED
      <inf> azure_iot_hub_sample: Event was successfully sent
      """

  Scenario: the sample built with the shell: its log lines above the prompt, the cred commands on the same console
    Given an nRF7002 DK on the hub's network running the Zephyr shell with a 4096-byte credential buffer
    When the user provisions the real "DigiCert Global Root G2" to sec tag 10 as CA with nrfcredstore's TLS shell interface
    And the user provisions the device certificate to sec tag 10 as SERV with nrfcredstore's TLS shell interface
    And the user provisions the device key to sec tag 10 as PK with nrfcredstore's TLS shell interface
    And the board is flashed with the azure_iot_hub sample for the nRF7002 DK built from:
      """
      CONFIG_AZURE_IOT_HUB=y
      CONFIG_AZURE_IOT_HUB_DEVICE_ID="nrf7002dk-01"
      CONFIG_AZURE_IOT_HUB_HOSTNAME="modemsim-hub.azure-devices.net"
      CONFIG_MQTT_HELPER_SEC_TAG=10
      CONFIG_TLS_CREDENTIALS_BACKEND_PROTECTED_STORAGE=y
      CONFIG_SHELL=y
      CONFIG_TLS_CREDENTIALS_SHELL=y
      """
    Then the sample logs:
      """
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTED
      <inf> azure_iot_hub_sample: Event was successfully sent
      """
    When the user types "cred list 10"
    Then the shell prints "3 credentials found."

  Scenario: W3 on the shell side: the CA certificate provisioned as the device certificate shows in cred list
    Given an nRF7002 DK running the Zephyr shell with a 4096-byte credential buffer
    When the user provisions "DigiCert_Global_Root_G2.pem" to sec tag 10 as CA with nrfcredstore's TLS shell interface
    And the user provisions "DigiCert_Global_Root_G2.pem" to sec tag 10 as SERV with nrfcredstore's TLS shell interface
    And the user types "cred list 10"
    Then the shell prints:
      """
      10,CA,lbKhd+LYbq1HrIngYNmRaf7+cHCGpMyFGuuBMjneeik=,0
      10,SERV,lbKhd+LYbq1HrIngYNmRaf7+cHCGpMyFGuuBMjneeik=,0
      2 credentials found.
      """

  Scenario: W4 on the shell side: the old root is replaced by DigiCert Global Root G2
    Given an nRF7002 DK running the Zephyr shell with a 4096-byte credential buffer
    When the user provisions "Baltimore_CyberTrust_Root.pem" to sec tag 10 as CA with nrfcredstore's TLS shell interface
    Then nrfcredstore's TLS shell interface finds "Baltimore_CyberTrust_Root.pem" at sec tag 10 as CA with the digest it expects
    When the user types "cred add 10 CA DEFAULT bint QUJD"
    Then the shell prints:
      """
      Stored 4 bytes.
      TLS credential with sectag 10 and type CA_CERT already exists.
      Credential buffer cleared.
      """
    When the user types "cred del 10 CA"
    Then the shell prints "Deleted TLS credential with sectag 10 and type CA_CERT."
    When the user provisions "DigiCert_Global_Root_G2.pem" to sec tag 10 as CA with nrfcredstore's TLS shell interface
    Then nrfcredstore's TLS shell interface finds "DigiCert_Global_Root_G2.pem" at sec tag 10 as CA with the digest it expects

  Scenario: the credentials survive a cold reboot (protected storage)
    Given an nRF7002 DK running the Zephyr shell with a 4096-byte credential buffer
    When the user provisions "AmazonRootCA1.pem" to sec tag 42 as CA with nrfcredstore's TLS shell interface
    And the user types "kernel reboot cold"
    Then the shell prints "*** Booting nRF Connect SDK v2.5.0 ***"
    When the user types "cred list 42"
    Then the shell prints "1 credentials found."
