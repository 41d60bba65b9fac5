Feature: H2 a SAS token signed over a different resource string
  IoT Hub verifies the signature over the `sr` text exactly as the device
  sent it. The Embedded C SDK escapes "/" as "%2F", the documentation shows
  "%2f": the two give different signatures. A token signed over one and
  carrying the other is refused with CONNACK 5, "not authorized", and
  nothing more. The emulator says which string it verified.

  Background:
    Given an IoT hub "myhub.azure-devices.net"
    And a SAS device "dev1" with primary key "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

  Scenario: signed over "%2f", sent with "%2F"
    When device "dev1" connects over MQTT/TLS with the password:
      """
      SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=LZNJ7dZSH8R77oICFFya0IZ5aqc%2B3yTvHIp7SbrH%2BhM%3D&se=1900000000
      """
    Then the hub refuses the connection with CONNACK 5, "not Authorized"
    And the emulator's reason is "sas-signature", naming the string it verified:
      """
      myhub.azure-devices.net%2Fdevices%2Fdev1\n1900000000
      """

  Scenario: signed over exactly the text it sends, the device connects
    When device "dev1" connects over MQTT/TLS with the password:
      """
      SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=2%2FbbVukbBxhdR4aRdJgLLhQzyetTcv8yWMS4N9W7HVY%3D&se=1900000000
      """
    Then the device is connected
