Feature: A board running the Serial Modem application connects to IoT Hub
  The forum cases M1, M3, D3 and H2 replayed from the device: the host
  types the Serial Modem's AT commands, the board's modem makes a real TLS
  handshake with what its sec tag holds, and the board prints exactly what
  the firmware prints. Where the connection reached the hub, the emulator
  says why it refused.

  Scenario: M1 Baltimore only after the migration, then DigiCert Global Root G2
    Given an IoT hub "myhub.azure-devices.net" on 2024-06-01
    And a SAS device "dev1" with primary key "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    And an nRF9151 DK running the Serial Modem application
    When the host stores the real "Baltimore CyberTrust Root" PEM in tag 10 as type 0
    And the modem registers on the network
    And the host connects the board as SAS device "dev1" with sec tag 10
    Then the board prints:
      """
      \r\nERROR\r\n
      """
    And the hub's reason is "tls-handshake"
    When the host types "AT+CFUN=4"
    Then the board prints:
      """
      \r\nOK\r\n
      """
    When the host stores the real "DigiCert Global Root G2" PEM in tag 10 as type 0
    And the modem registers on the network
    And the host connects the board as SAS device "dev1" with sec tag 10
    Then the board prints:
      """
      \r\nOK\r\n\r\n#XMQTTEVT: 0,0\r\n
      """
    And the board's transcript says the real "DigiCert Global Root G2" was replaced by its stand-in

  Scenario: M1 before the migration the Baltimore-only board connects
    Given an IoT hub "myhub.azure-devices.net" on 2022-06-01
    And a SAS device "dev1" with primary key "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    And an nRF9151 DK running the Serial Modem application
    When the host stores the real "Baltimore CyberTrust Root" PEM in tag 10 as type 0
    And the modem registers on the network
    And the host connects the board as SAS device "dev1" with sec tag 10
    Then the board prints:
      """
      \r\nOK\r\n\r\n#XMQTTEVT: 0,0\r\n
      """

  Scenario: A self-made root with DigiCert's name does not pass
    Given an IoT hub "myhub.azure-devices.net" on 2024-06-01
    And a SAS device "dev1" with primary key "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    And an nRF9151 DK running the Serial Modem application
    When the host stores a self-made root named "DigiCert Global Root G2" in tag 10 as type 0
    And the modem registers on the network
    And the host connects the board as SAS device "dev1" with sec tag 10
    Then the board prints:
      """
      \r\nERROR\r\n
      """
    And the hub's reason is "tls-handshake"

  Scenario: M3 the root CA written as a client certificate (type 1)
    Given an IoT hub "myhub.azure-devices.net" on 2024-06-01
    And a SAS device "dev1" with primary key "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    And an nRF9151 DK running the Serial Modem application
    When the host stores the real "DigiCert Global Root G2" PEM in tag 10 as type 1
    And the modem registers on the network
    And the host connects the board as SAS device "dev1" with sec tag 10
    Then the board prints:
      """
      \r\nERROR\r\n
      """
    And the hub's reason is "tls-handshake"

  Scenario: D3 no DigiCert root at all, whatever the device certificate
    Given an IoT hub "myhub.azure-devices.net"
    And the user's own root CA "Contoso Root"
    And the hub has "Contoso Root" uploaded and verified
    And an nRF9151 DK running the Serial Modem application
    When the host generates a key in tag 20 with AT%KEYGEN
    And "Contoso Root" signs the CSR and the host writes the certificate to tag 20 as type 1
    And the hub has a device for the CSR's subject authenticated by its CA
    And the modem registers on the network
    And the host connects the board with its certificate as the CSR's subject with sec tag 20
    Then the board prints:
      """
      \r\nERROR\r\n
      """
    And the hub's reason is "tls-handshake"

  Scenario: H2 a SAS token signed over "%2f" but sent with "%2F"
    Given an IoT hub "myhub.azure-devices.net" on 2024-06-01
    And a SAS device "dev1" with primary key "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    And an nRF9151 DK running the Serial Modem application
    When the host stores the real "DigiCert Global Root G2" PEM in tag 10 as type 0
    And the modem registers on the network
    And the host connects the board as "dev1" with sec tag 10 and the password:
      """
      SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=LZNJ7dZSH8R77oICFFya0IZ5aqc%2B3yTvHIp7SbrH%2BhM%3D&se=1900000000
      """
    Then the board prints:
      """
      \r\nOK\r\n\r\n#XMQTTEVT: 0,5\r\n\r\n#XMQTTEVT: 1,-111\r\n
      """
    And the emulator's reason is "sas-signature", naming the string it verified:
      """
      myhub.azure-devices.net%2Fdevices%2Fdev1\n1900000000
      """

  Scenario: A SAS device publishes telemetry and receives a cloud-to-device message
    Given an IoT hub "myhub.azure-devices.net" on 2024-06-01
    And a SAS device "dev1" with primary key "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    And the host watches the hub's telemetry through its admin API
    And an nRF9151 DK running the Serial Modem application
    When the host stores the real "DigiCert Global Root G2" PEM in tag 10 as type 0
    And the modem registers on the network
    And the host connects the board as "dev1" with sec tag 10 and the password:
      """
      SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=2%2FbbVukbBxhdR4aRdJgLLhQzyetTcv8yWMS4N9W7HVY%3D&se=1900000000
      """
    Then the board prints:
      """
      \r\nOK\r\n\r\n#XMQTTEVT: 0,0\r\n
      """
    When the host types "AT#XMQTTPUB=\"devices/dev1/messages/events/\",\"temperature 21.5\",1"
    Then the board prints:
      """
      \r\nOK\r\n\r\n#XMQTTEVT: 3,0\r\n
      """
    And the hub's admin API shows the telemetry "temperature 21.5" from "dev1"
    When the host types "AT#XMQTTSUB=\"devices/dev1/messages/devicebound/#\",1"
    Then the board prints:
      """
      \r\nOK\r\n\r\n#XMQTTEVT: 7,0\r\n
      """
    When the hub sends "open the valve" to "dev1" through its admin API
    Then the board prints "open the valve" as an #XMQTTMSG for "dev1", then "#XMQTTEVT: 2,0"

  Scenario: An X.509 device whose key never left the modem connects
    Given an IoT hub "myhub.azure-devices.net"
    And the user's own root CA "Contoso Root"
    And the hub has "Contoso Root" uploaded and verified
    And the host watches the hub's telemetry through its admin API
    And an nRF9151 DK running the Serial Modem application
    When the host generates a key in tag 20 with AT%KEYGEN
    And "Contoso Root" signs the CSR and the host writes the certificate to tag 20 as type 1
    And the host stores the real "DigiCert Global Root G2" PEM in tag 20 as type 0
    And the hub has a device for the CSR's subject authenticated by its CA
    And the modem registers on the network
    And the host connects the board with its certificate as the CSR's subject with sec tag 20
    Then the board prints:
      """
      \r\nOK\r\n\r\n#XMQTTEVT: 0,0\r\n
      """
    When the host publishes "hello from a KEYGEN key" to the device's telemetry topic
    Then the board prints:
      """
      \r\nOK\r\n\r\n#XMQTTEVT: 3,0\r\n
      """
    And the hub's admin API shows the telemetry "hello from a KEYGEN key" from the CSR's subject
