Feature: SPWF04SA MQTTCONN to Azure IoT Hub (forum/spwf04-mqttconn-azure.txt, S1–S4)
  Fabio's SPWF04SA refuses the hub's server certificate: the module trusts a CA
  only if it finds it by key identifier, there is no anonymous TLS, and it cannot
  fetch a CA itself. The thread ends with the Baltimore root on the module and
  MQTT over WebSockets with a SAS token.

  Background:
    Given an IoT hub "fabio-hub.azure-devices.net" on 2018-03-26
    And a SAS device "DeviceID" in it
    And an SPWF04SA module with its clock set to the same date
    And the module joined the lab's Wi-Fi

  Scenario: S1 the intermediate instead of the root
    Given the file "MicrosoftITTLSCA1.pem" is 2037 bytes long
    And a SAS token for "DeviceID" valid for a day
    When the host writes "AT+S.TLSCERT=content,2"
    Then the module answers "AT-S.OK"
    When the host writes "AT+S.TLSCERT=ca,2037" and the file "MicrosoftITTLSCA1.pem"
    Then the module answers "AT-S.OK"
    When the host writes "AT+S.TLSCERT=auth,20" and the bytes "e5 9d 59 30 82 47 58 cc ac fa 08 54 36 86 7b 3a b5 04 4d f0"
    Then the module answers "AT-S.OK"
    When the host writes "AT+S.TLSCERT=content,1"
    Then the module answers:
      """
      AT-S.List
      AT-S.CA:1
      AT-S.Cert:0
      AT-S.Key:0
      AT-S.Id:1
      AT-S.OK
      """
    When the host writes "AT+S.MQTTCONN=fabio-hub.azure-devices.net,8883,,2,fabio-hub.azure-devices.net/DeviceID,{SAS},DeviceID,,,,,"
    Then the module answers:
      """
      AT-S.Skip CA
      AT-S.Certificate Error:23
      AT-S.ERROR:111:Request failed
      """
    And the hub's reason is "tls-handshake"

  Scenario: S2 the root loaded, but the SAS token of the thread has expired
    Given a SAS token for "DeviceID" that expires at 1521901101
    When the host writes "AT+S.TLSCERT=ca,891" and the Baltimore root in DER
    Then the module answers:
      """
      AT-S.SubjectKeyId:E5:9D:59:30:82:47:58:CC:AC:FA:08:54:36:86:7B:3A:B5:04:4D:F0
      AT-S.OK
      """
    When the host writes "AT+S.MQTTCONN=fabio-hub.azure-devices.net,8883,,2,fabio-hub.azure-devices.net/DeviceID/api-version=2016-11-14,{SAS},DeviceID,,,,,"
    Then the module answers:
      """
      AT-S.Skip CA
      AT-S.Loading:1:2
      AT-S.Loading:2:1
      AT-S.Loading:3:1
      AT-S.Loading:3:1
      AT-S.ERROR:111:Request failed
      """
    And the module indicates "+WIND:87:MQTT Closed:0:0"
    And the hub's reason is "sas-expired"

  Scenario: S2 the root loaded, but the hub wants the device's X.509 certificate
    Given an X.509 device "CertDevice" in it
    When the host writes "AT+S.TLSCERT=ca,891" and the Baltimore root in DER
    Then the module answers:
      """
      AT-S.SubjectKeyId:E5:9D:59:30:82:47:58:CC:AC:FA:08:54:36:86:7B:3A:B5:04:4D:F0
      AT-S.OK
      """
    When the host writes "AT+S.MQTTCONN=fabio-hub.azure-devices.net,8883,,2,fabio-hub.azure-devices.net/CertDevice/?api-version=2021-04-12,,CertDevice,,,,,"
    Then the module answers:
      """
      AT-S.Skip CA
      AT-S.Loading:1:2
      AT-S.Loading:2:1
      AT-S.Loading:3:1
      AT-S.Loading:3:1
      AT-S.ERROR:111:Request failed
      """
    And the module indicates "+WIND:87:MQTT Closed:0:0"
    And the hub's reason is "x509-no-client-cert"

  Scenario: S3 MQTT over WebSockets on 443 with a SAS token: telemetry out, a message in
    Given a SAS token for "DeviceID" valid for a day
    And the hub's admin API is watching the telemetry
    When the host writes "AT+S.TLSCERT=ca,891" and the Baltimore root in DER
    Then the module answers:
      """
      AT-S.SubjectKeyId:E5:9D:59:30:82:47:58:CC:AC:FA:08:54:36:86:7B:3A:B5:04:4D:F0
      AT-S.OK
      """
    When the host writes "AT+S.MQTTCONN=fabio-hub.azure-devices.net,443,/$iothub/websocket?iothub-no-client-cert=true,2,fabio-hub.azure-devices.net/DeviceID,{SAS},DeviceID,60,15,0,,"
    Then the module answers:
      """
      AT-S.Skip CA
      AT-S.Loading:1:2
      AT-S.Loading:2:1
      AT-S.Loading:3:1
      AT-S.Loading:3:1
      AT-S.On:0
      AT-S.OK
      """
    When the host writes "AT+S.MQTTSUB=0,devices/DeviceID/messages/devicebound/#,1"
    Then the module answers "AT-S.OK"
    When the host writes "AT+S.MQTTPUB=0,devices/DeviceID/messages/events/,,,14" and the text '{"temp":21.5}\n'
    Then the module answers "AT-S.OK"
    And the hub's admin API shows the telemetry '{"temp":21.5}\n' from "DeviceID"
    When the admin API sends the cloud-to-device message "led on" to "DeviceID"
    Then the module indicates an MQTT message on "devices/DeviceID/messages/devicebound/" carrying "led on"
    When the host writes "AT+S.MQTTDISC=0"
    Then the module answers "AT-S.OK"

  Scenario: S4 the root from the file system, with an empty TLS store
    Given a SAS token for "DeviceID" valid for a day
    When the host writes "AT+S.TLSCERT=content,2"
    Then the module answers "AT-S.OK"
    When the host writes "AT+S.FSC=e59d5930824758ccacfa085436867b3ab5044df0.ca,1261" and the file "e59d5930824758ccacfa085436867b3ab5044df0.ca"
    Then the module answers "AT-S.OK"
    When the host writes "AT+S.FSL"
    Then the module answers:
      """
      AT-S.File:1261:e59d5930824758ccacfa085436867b3ab5044df0.ca
      AT-S.OK
      """
    When the host writes "AT+S.MQTTCONN=fabio-hub.azure-devices.net,443,/$iothub/websocket?iothub-no-client-cert=true,2,fabio-hub.azure-devices.net/DeviceID,{SAS},DeviceID,60,15,0,,"
    Then the module answers:
      """
      AT-S.Loading:1:1
      AT-S.Loading:2:1
      AT-S.Loading:3:1
      AT-S.Loading:3:1
      AT-S.On:0
      AT-S.OK
      """
    When the host writes "AT+S.MQTTDISC=0"
    Then the module answers "AT-S.OK"
    When the host writes "AT+S.FSD=e59d5930824758ccacfa085436867b3ab5044df0.ca"
    Then the module answers "AT-S.OK"
    When the host writes "AT+S.MQTTCONN=fabio-hub.azure-devices.net,443,/$iothub/websocket?iothub-no-client-cert=true,2,fabio-hub.azure-devices.net/DeviceID,{SAS},DeviceID,60,15,0,,"
    Then the module answers:
      """
      AT-S.Skip CA
      AT-S.Certificate Error:23
      AT-S.ERROR:111:Request failed
      """

  Scenario: the module's clock is wrong: the chain is checked at the module's time
    Given a SAS token for "DeviceID" valid for a day
    And the host sets the module's clock to 2026-12-01
    When the host writes "AT+S.TLSCERT=ca,891" and the Baltimore root in DER
    Then the module answers:
      """
      AT-S.SubjectKeyId:E5:9D:59:30:82:47:58:CC:AC:FA:08:54:36:86:7B:3A:B5:04:4D:F0
      AT-S.OK
      """
    When the host writes "AT+S.MQTTCONN=fabio-hub.azure-devices.net,8883,,2,fabio-hub.azure-devices.net/DeviceID,{SAS},DeviceID,,,,,"
    Then the module answers:
      """
      AT-S.Skip CA
      AT-S.Loading:1:2
      AT-S.Certificate Error:10
      AT-S.ERROR:111:Request failed
      """
    And the hub's reason is "tls-handshake"
