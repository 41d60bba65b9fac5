Feature: D4 keys that never leave the modem
  For mass production every board makes its own key with AT%KEYGEN; only a
  certificate signing request leaves the modem. The CSR is signed by the
  group CA and the certificate is written back beside the key.

  Background:
    Given an nRF9151 DK running the at_client sample

  Scenario Outline: nrfcredstore <version> generates a key and a CSR that openssl accepts
    When nrfcredstore <version> generates a key in tag 1234 with attributes "<attributes>"
    Then it succeeds
    And the board answered `AT%KEYGEN=1234,2,0<sent>\r\n` with one %KEYGEN line and "OK"
    And the CSR file it wrote passes "openssl req -inform DER -in csr.der -noout -verify"
    And the CSR's subject is <subject>
    When the group CA signs the CSR and nrfcredstore 2.0.9 writes the certificate to tag 1234 as CLIENT_CERT
    And nrfcredstore 2.0.9 lists the credentials of tag 1234
    Then it lists the client certificate and the key, types 1 and 2, with the certificate's digest
    And the certificate written holds the public key of the key in tag 1234

    Examples:
      | version | attributes                | sent                          | subject                     |
      | 1.1.1   |                           |                               | the board's device UUID     |
      | 2.0.9   | CN=nrf-352656100367872    | ,"CN=nrf-352656100367872"     | "CN=nrf-352656100367872"    |

  Scenario: the generated key survives a restart and never reads back
    Given nrfcredstore 2.0.9 generated a key in tag 77
    When the simulator restarts with the same state directory
    And the host opened the port
    And the host sends "AT+CMEE=1"
    And the host sends "AT%CMNG=2,77,2"
    Then the board answers "+CME ERROR: 514"
    When the host sends "AT%KEYGEN=77,2,0"
    Then the board answers "+CME ERROR: 519"
    When the host sends "AT%CMNG=1,77"
    Then the board answers one %CMNG line for tag 77 type 2, then "OK"

  Scenario: the attestation token names the same device as the CSR
    When nrfcredstore 2.0.9 reads the attestation token
    Then the token's device UUID is the board's device UUID
    And its signature verifies with the board's exported identity key
