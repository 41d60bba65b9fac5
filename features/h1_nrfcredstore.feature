Feature: H1 nrfcredstore manages the credentials of an nRF91 running at_client
  Nordic's nrfcredstore talks to the modem through the at_client sample. It
  parses exact lines: "OK", "ERROR", "+CME ERROR: <n>" and "%CMNG: <tag>,<type>,"<sha>"".
  Version 2.x first probes for a shell with "at AT+CGSN"; a plain AT board
  must answer ERROR at once, or the tool would wrap every command.

  Background:
    Given an nRF9151 DK running the at_client sample

  Scenario: nrfcredstore 2.0.9 recognises a plain AT board
    When nrfcredstore 2.0.9 connects
    Then it chose AT mode, not shell mode
    And the board answered "at AT+CGSN\r\n" with exactly "ERROR\r\n" each time
    And the board answered "AT+CGSN\r\n" with its IMEI and "OK"
    And the board answered "AT+CFUN=4\r\n" with exactly "OK\r\n"

  Scenario Outline: write, list and delete a root CA with nrfcredstore <version>
    When nrfcredstore <version> lists the credentials of tag 42
    Then it lists nothing
    When nrfcredstore <version> writes "AmazonRootCA1.pem" to tag 42 as ROOT_CA_CERT
    Then it succeeds
    When nrfcredstore <version> lists the credentials of tag 42
    Then it lists:
      | tag | type | sha                                                              |
      | 42  | 0    | AD6FB002E6B34C0559FA8F93A3794FF12C4E3F119BD77290C52525123FB9EA74 |
    And the board answered "AT%CMNG=1,42\r\n" with exactly:
      """
      %CMNG: 42,0,"AD6FB002E6B34C0559FA8F93A3794FF12C4E3F119BD77290C52525123FB9EA74"\r\n
      OK\r\n
      """
    When nrfcredstore <version> deletes tag 42 type ROOT_CA_CERT
    Then it succeeds
    When nrfcredstore <version> deletes tag 42 type ROOT_CA_CERT
    Then it fails with "+CME ERROR: 513"

    Examples:
      | version |
      | 1.1.1   |
      | 2.0.9   |

  Scenario: deleteall keeps Nordic's own credentials
    Given nrfcredstore 2.0.9 wrote "AmazonRootCA1.pem" to tag 16842753 as ROOT_CA_CERT
    And nrfcredstore 2.0.9 wrote "AmazonRootCA1.pem" to tag 7 as CLIENT_CERT
    When nrfcredstore 2.0.9 deletes all credentials
    Then it succeeds
    When nrfcredstore 2.0.9 lists the credentials
    Then every credential listed is one of Nordic's, at tags 4294967292 to 4294967294

  Scenario: imei prints the board's IMEI
    When nrfcredstore 2.0.9 reads the IMEI
    Then it prints the board's IMEI, 15 digits with a valid Luhn check digit

  Scenario: the credentials survive a restart of the simulator
    Given nrfcredstore 2.0.9 wrote "AmazonRootCA1.pem" to tag 42 as ROOT_CA_CERT
    When the simulator restarts with the same state directory
    And nrfcredstore 2.0.9 lists the credentials of tag 42
    Then it lists:
      | tag | type | sha                                                              |
      | 42  | 0    | AD6FB002E6B34C0559FA8F93A3794FF12C4E3F119BD77290C52525123FB9EA74 |

  Scenario: a private key can be written but never read back
    Given the host opened the port
    When the host sends "AT+CMEE=1"
    And the host sends "AT+CFUN=4"
    And the host writes a new EC private key to tag 42 type 2
    Then the board answers "OK"
    When the host sends "AT%CMNG=2,42,2"
    Then the board answers "+CME ERROR: 514"
    When the host sends "AT%CMNG=1,42,2"
    Then the board answers a %CMNG line for tag 42 type 2 with the digest of the key, then "OK"
