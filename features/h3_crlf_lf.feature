Feature: H3 the same certificate with CRLF or LF line ends lists different digests
  The modem stores exactly the bytes it was given and lists the SHA-256 of
  those bytes in upper-case hex. A certificate saved with Windows line ends
  is a different credential to the modem: tools that verify by digest must
  hash exactly what they wrote.

  Background:
    Given an nRF9160 DK running the at_client sample
    And the host opened the port
    And the host sent "AT+CMEE=1" and "AT+CFUN=4"

  Scenario: LF and CRLF copies of Amazon Root CA 1
    When the host writes "AmazonRootCA1.pem" with LF line ends to tag 10 type 0
    And the host writes "AmazonRootCA1.pem" with CRLF line ends to tag 11 type 0
    And the host writes "AmazonRootCA1.pem" with LF line ends and no final newline to tag 12 type 0
    And the host sends "AT%CMNG=1"
    Then the board answers exactly:
      """
      %CMNG: 10,0,"2C43952EE9E000FF2ACC4E2ED0897C0A72AD5FA72C3D934E81741CBD54F05BD1"\r\n
      %CMNG: 11,0,"56AE01E6773BDAEC4BFB216D4005ADB06E4F680BD8BFB8BE4C683CE921681897"\r\n
      %CMNG: 12,0,"AD6FB002E6B34C0559FA8F93A3794FF12C4E3F119BD77290C52525123FB9EA74"\r\n
      OK\r\n
      """

  Scenario: reading back returns the CRLF bytes as they were written
    When the host writes "AmazonRootCA1.pem" with CRLF line ends to tag 11 type 0
    And the host sends "AT%CMNG=2,11,0"
    Then the board answers the digest "56AE01E6773BDAEC4BFB216D4005ADB06E4F680BD8BFB8BE4C683CE921681897" and the certificate with CRLF line ends, then "OK"

  Scenario: nrfcredstore 2.0.9 normalises a CRLF file to LF before writing
    Given the file "AmazonRootCA1.pem" was saved with CRLF line ends
    When nrfcredstore 2.0.9 writes "AmazonRootCA1.pem" to tag 13 as ROOT_CA_CERT
    And nrfcredstore 2.0.9 lists the credentials of tag 13
    Then it lists:
      | tag | type | sha                                                              |
      | 13  | 0    | AD6FB002E6B34C0559FA8F93A3794FF12C4E3F119BD77290C52525123FB9EA74 |
