Feature: The azure_iot_hub sample on an nRF9160 DK, from its prj.conf
  The forum threads' logs come from Nordic's azure_iot_hub sample. The board
  is provisioned as the users did (device_fullchain.pem as CLIENT_CERT, the
  key as CLIENT_KEY, a root as ROOT_CA_CERT), the sample is flashed from the
  prj.conf they posted, and the device prints what theirs printed, against
  the emulated hub and DPS (timestamps aside). The emulator says why.

  Background:
    Given an IoT hub "modemsim-hub.azure-devices.net" with its DPS
    And the user's own root CA "My Root CA"
    And a device certificate for "50363154-3931-44f0-8022-121b6401627d" signed by "My Root CA"

  Scenario: M1 on the sample: Baltimore only after the migration, then DigiCert Global Root G2
    Given the hub has "My Root CA" uploaded and verified
    And the hub has a device "50363154-3931-44f0-8022-121b6401627d" authenticated by its CA
    And an nRF9160 DK on the hub's network whose tag 10 holds the device certificate with its root, its key and the real "Baltimore CyberTrust Root"
    When the board is flashed with the azure_iot_hub sample built from:
      """
      CONFIG_AZURE_IOT_HUB=y
      CONFIG_AZURE_IOT_HUB_DEVICE_ID="50363154-3931-44f0-8022-121b6401627d"
      CONFIG_AZURE_IOT_HUB_HOSTNAME="modemsim-hub.azure-devices.net"
      CONFIG_MQTT_HELPER_SEC_TAG=10
      """
    Then the sample logs:
      """
      *** Booting nRF Connect SDK v2.5.0 ***
      <inf> azure_iot_hub_sample: Azure IoT Hub sample started
      <inf> azure_iot_hub_sample: Connected to network
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTING
      <err> mqtt_helper: mqtt_connect, error: -111
      <err> azure_iot_hub_sample: azure_iot_hub_connect failed: -111
      """
    And the hub's reason is "tls-handshake"
    When the user writes the real "DigiCert Global Root G2" to tag 10 as ROOT_CA_CERT with the at_client sample and flashes the azure_iot_hub sample again
    Then the sample logs:
      """
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTED
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_READY
      <inf> azure_iot_hub_sample: Event was successfully sent
      """

  Scenario: D1 from the device: the CA was uploaded to DPS but never verified
    Given "My Root CA" is uploaded to DPS without proof of possession
    And the enrollment group "nrf91-fleet" uses "My Root CA"
    And an nRF9160 DK on the hub's network whose tag 56 holds the device certificate with its root, its key and the real "DigiCert Global Root G2"
    When the board is flashed with the azure_iot_hub sample built from:
      """
      CONFIG_AZURE_IOT_HUB=y
      CONFIG_AZURE_IOT_HUB_DPS=y
      CONFIG_AZURE_IOT_HUB_DPS_ID_SCOPE="{ID_SCOPE}"
      CONFIG_AZURE_IOT_HUB_DPS_REG_ID="50363154-3931-44f0-8022-121b6401627d"
      CONFIG_AZURE_IOT_HUB_DEVICE_ID="50363154-3931-44f0-8022-121b6401627d"
      CONFIG_MQTT_HELPER_SEC_TAG=56
      CONFIG_SETTINGS=y
      """
    Then the sample logs:
      """
      <inf> azure_iot_hub_sample: Starting DPS
      <err> azure_iot_hub_dps: Connection was rejected with return code 5
      <wrn> azure_iot_hub_dps: Is the device certificate valid?
      <err> mqtt_helper: Library is in the wrong state (MQTT_STATE_DISCONNECTED), MQTT_STATE_CONNECTED required
      <err> azure_iot_hub_dps: Failed to disconnect gracefully, error: -95
      <inf> azure_iot_hub_sample: DPS registration status: AZURE_IOT_HUB_DPS_REG_STATUS_FAILED
      <err> azure_iot_hub_sample: Failed to run DPS, error: -14, terminating connection attempt
      <err> mqtt_helper: Cloud MQTT input error: -111
      """
    And the emulator's DPS reason is "x509-ca-not-verified"

  Scenario: D2 from the device: the same steps done right, assigned and connected
    Given "My Root CA" is uploaded to DPS and verified by proof of possession
    And the enrollment group "nrf91-fleet" uses "My Root CA"
    And an nRF9160 DK on the hub's network whose tag 56 holds the device certificate with its root, its key and the real "DigiCert Global Root G2"
    When the board is flashed with the azure_iot_hub sample built from:
      """
      CONFIG_AZURE_IOT_HUB=y
      CONFIG_AZURE_IOT_HUB_DPS=y
      CONFIG_AZURE_IOT_HUB_DPS_ID_SCOPE="{ID_SCOPE}"
      CONFIG_AZURE_IOT_HUB_DPS_REG_ID="50363154-3931-44f0-8022-121b6401627d"
      CONFIG_AZURE_IOT_HUB_DEVICE_ID="50363154-3931-44f0-8022-121b6401627d"
      CONFIG_MQTT_HELPER_SEC_TAG=56
      CONFIG_SETTINGS=y
      """
    Then the sample logs:
      """
      <inf> azure_iot_hub_sample: Starting DPS
      <inf> azure_iot_hub_sample: DPS registration status: AZURE_IOT_HUB_DPS_REG_STATUS_ASSIGNED
      <inf> azure_iot_hub_sample: Device ID "50363154-3931-44f0-8022-121b6401627d" assigned to IoT hub with hostname "modemsim-hub.azure-devices.net"
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTED
      <inf> azure_iot_hub_sample: Event was successfully sent
      """

  Scenario Outline: D1 from the device: <cause>
    Given "My Root CA" is uploaded to DPS and verified by proof of possession
    And the user's own root CA "Other Root CA"
    And "Other Root CA" is uploaded to DPS and verified by proof of possession
    And the enrollment group "nrf91-fleet" uses "<group CA>"
    And an nRF9160 DK on the hub's network whose tag 56 holds the device certificate with its root, its key and the real "DigiCert Global Root G2"
    When the board is flashed with the azure_iot_hub sample built from:
      """
      CONFIG_AZURE_IOT_HUB=y
      CONFIG_AZURE_IOT_HUB_DPS=y
      CONFIG_AZURE_IOT_HUB_DPS_ID_SCOPE="{ID_SCOPE}"
      CONFIG_AZURE_IOT_HUB_DPS_REG_ID="<registration ID>"
      CONFIG_MQTT_HELPER_SEC_TAG=56
      CONFIG_SETTINGS=y
      """
    Then the sample logs:
      """
      <err> azure_iot_hub_dps: Connection was rejected with return code 5
      <wrn> azure_iot_hub_dps: Is the device certificate valid?
      <inf> azure_iot_hub_sample: DPS registration status: AZURE_IOT_HUB_DPS_REG_STATUS_FAILED
      <err> azure_iot_hub_sample: Failed to run DPS, error: -14, terminating connection attempt
      """
    And the emulator's DPS reason is "<reason>"

    Examples:
      | cause                                                      | group CA      | registration ID                      | reason             |
      | the registration ID the firmware uses is not the cert's CN | My Root CA    | nrf91-device-1                       | x509-cn-mismatch   |
      | the enrollment group is bound to another CA                | Other Root CA | 50363154-3931-44f0-8022-121b6401627d | x509-no-enrollment |

  Scenario: D1 from the device: the credentials went to another sec tag than the sample's
    Given "My Root CA" is uploaded to DPS and verified by proof of possession
    And the enrollment group "nrf91-fleet" uses "My Root CA"
    And an nRF9160 DK on the hub's network whose tag 56 holds the device certificate with its root, its key and the real "DigiCert Global Root G2"
    When the board is flashed with the azure_iot_hub sample built from:
      """
      CONFIG_AZURE_IOT_HUB=y
      CONFIG_AZURE_IOT_HUB_DPS=y
      CONFIG_AZURE_IOT_HUB_DPS_ID_SCOPE="{ID_SCOPE}"
      CONFIG_AZURE_IOT_HUB_DPS_REG_ID="50363154-3931-44f0-8022-121b6401627d"
      CONFIG_MQTT_HELPER_SEC_TAG=10
      CONFIG_SETTINGS=y
      """
    Then the sample logs:
      """
      <inf> azure_iot_hub_sample: Starting DPS
      <err> azure_iot_hub_sample: Failed to run DPS, error: -111, terminating connection attempt
      """

  Scenario: D4 mass production: ten boards, keys made by AT%KEYGEN, all assigned by the group
    Given "My Root CA" is uploaded to DPS and verified by proof of possession
    And the enrollment group "nrf91-fleet" uses "My Root CA"
    And 10 nRF9160 DKs on the hub's network, each with a key made by AT%KEYGEN in tag 56, its CSR signed by "My Root CA" and the certificate written back with the real DigiCert Global Root G2
    When every board is flashed with the azure_iot_hub sample built from:
      """
      CONFIG_AZURE_IOT_HUB=y
      CONFIG_AZURE_IOT_HUB_DPS=y
      CONFIG_AZURE_IOT_HUB_DPS_ID_SCOPE="{ID_SCOPE}"
      CONFIG_AZURE_IOT_HUB_DPS_REG_ID="{DEVICE_ID}"
      CONFIG_MQTT_HELPER_SEC_TAG=56
      CONFIG_SETTINGS=y
      """
    Then every board's sample logs:
      """
      <inf> azure_iot_hub_sample: DPS registration status: AZURE_IOT_HUB_DPS_REG_STATUS_ASSIGNED
      <inf> azure_iot_hub_sample: Device ID "{DEVICE_ID}" assigned to IoT hub with hostname "modemsim-hub.azure-devices.net"
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTED
      """
