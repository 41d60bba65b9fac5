Feature: D5 one certificate for every device
  The DPS thread asks whether "a single credential file" would do for every
  board. Every board then presents the same certificate, so all of them are
  the same device ID to the hub, and each new connection drops the previous
  one: the hub closes the older socket without an MQTT packet. The emulator's
  log names the takeover.

  Background:
    Given an IoT hub "modemsim-hub.azure-devices.net"
    And the user's own root CA "Fleet CA"
    And a device certificate for "fleet-device" signed by "Fleet CA"
    And the hub has "Fleet CA" uploaded and verified
    And the hub has a device "fleet-device" authenticated by its CA

  Scenario: a second board with the same certificate takes over the first one's connection
    When board "A" connects to the hub with the certificate
    And board "B" connects to the hub with the same certificate
    Then board "B" is connected
    And board "A" loses its connection without an MQTT packet from the hub
    And the emulator's reason is "duplicate-connection" for device "fleet-device"
