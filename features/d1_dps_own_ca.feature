Feature: D1/D2 DPS group enrollment with an own CA
  From the forum thread on an nRF91 with DPS and its own CA: a root CA made
  with openssl, uploaded to DPS, proved with a verification certificate, an
  enrollment group using it, and a device certificate (CN = device UUID)
  written with the root as its chain. The device saw "Connection was rejected
  with return code 5" and nothing more. Each cause below gives the device that
  same answer; the emulator says which one it was. Then the same steps done
  right.

  Background:
    Given an IoT hub "modemsim-hub.azure-devices.net" with its DPS
    And the user's own root CA "My Root CA"
    And a device certificate for "50363154-3931-44f0-8022-121b6401627d" signed by "My Root CA"

  Scenario: the CA was uploaded but never verified
    Given "My Root CA" is uploaded to DPS without proof of possession
    And the enrollment group "nrf91-fleet" uses "My Root CA"
    When the device registers as "50363154-3931-44f0-8022-121b6401627d" presenting its certificate and the root
    Then DPS refuses the connection with CONNACK 5, "not Authorized"
    And the emulator's DPS reason is "x509-ca-not-verified"

  Scenario: the registration ID is not the certificate's CN
    Given "My Root CA" is uploaded to DPS and verified by proof of possession
    And the enrollment group "nrf91-fleet" uses "My Root CA"
    When the device registers as "nrf91-device-1" presenting its certificate and the root
    Then DPS refuses the connection with CONNACK 5, "not Authorized"
    And the emulator's DPS reason is "x509-cn-mismatch"

  Scenario: the enrollment group is bound to another CA
    Given "My Root CA" is uploaded to DPS and verified by proof of possession
    And the user's own root CA "Other Root CA"
    And "Other Root CA" is uploaded to DPS and verified by proof of possession
    And the enrollment group "nrf91-fleet" uses "Other Root CA"
    When the device registers as "50363154-3931-44f0-8022-121b6401627d" presenting its certificate and the root
    Then DPS refuses the connection with CONNACK 5, "not Authorized"
    And the emulator's DPS reason is "x509-no-enrollment"

  Scenario: D2 the same steps done right
    Given "My Root CA" is uploaded to DPS and verified by proof of possession
    And the enrollment group "nrf91-fleet" uses "My Root CA"
    When the device registers as "50363154-3931-44f0-8022-121b6401627d" presenting its certificate and the root
    Then DPS assigns device ID "50363154-3931-44f0-8022-121b6401627d" to IoT hub "modemsim-hub.azure-devices.net"
    And the device connects to that hub with its certificate
