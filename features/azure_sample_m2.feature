Feature: M2 two sec tags during the migration window (forum/nrf91-modem-key-mgmt-dps.txt)
  Between the hubs' move to DigiCert Global Root G2 (2023) and DPS's (15 February
  2024) a device talked to a DPS still on Baltimore and a hub already on G2.
  The user kept Baltimore in the primary sec tag and DigiCert G2 in the
  secondary one, and the azure_iot_hub sample's mqtt_helper tries both.

  Scenario: Baltimore in tag 10, DigiCert G2 in tag 11: DPS assigns, the hub connects
    Given an IoT hub "modemsim-hub.azure-devices.net" on 2024-01-10
    And the user's own root CA "My Root CA"
    And a device certificate for "testdevice" signed by "My Root CA"
    And "My Root CA" is uploaded to DPS and verified by proof of possession
    And the enrollment group "nrf91-fleet" uses "My Root CA"
    And an nRF9160 DK on the hub's network whose tags 10 and 11 hold the device certificate with its root and its key, and the real "Baltimore CyberTrust Root" and "DigiCert Global Root G2"
    When the board is flashed with the azure_iot_hub sample built from:
      """
      CONFIG_AZURE_IOT_HUB=y
      CONFIG_AZURE_IOT_HUB_DPS=y
      CONFIG_AZURE_IOT_HUB_DPS_ID_SCOPE="{ID_SCOPE}"
      CONFIG_AZURE_IOT_HUB_DPS_REG_ID="testdevice"
      CONFIG_MQTT_HELPER_SEC_TAG=10
      CONFIG_MQTT_HELPER_SECONDARY_SEC_TAG=11
      CONFIG_SETTINGS=y
      """
    Then the sample logs:
      """
      <inf> azure_iot_hub_sample: DPS registration status: AZURE_IOT_HUB_DPS_REG_STATUS_ASSIGNED
      <inf> azure_iot_hub_sample: Device ID "testdevice" assigned to IoT hub with hostname "modemsim-hub.azure-devices.net"
      <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTED
      <inf> azure_iot_hub_sample: Event was successfully sent
      """
