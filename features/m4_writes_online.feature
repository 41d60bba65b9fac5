Feature: M4 credentials cannot be written while the modem is online
  From the forum thread on nRF91 modem key management: the user provisioned
  with AT%CMNG while the LTE link was up and got "+CME ERROR: 518" (not
  allowed in active state). Going offline with AT+CFUN=4 first fixes it.

  Background:
    Given an nRF9151 DK running the at_client sample
    And the host opened the port
    And the host sent "AT+CMEE=1" and "AT+CEREG=1"

  Scenario: a write while online is refused, the same write offline works
    When the host sends "AT+CFUN=1"
    Then the board answers "OK"
    And the board notifies "+CEREG: 2" and then "+CEREG: 1"
    When the host writes "AmazonRootCA1.pem" with LF line ends to tag 42 type 0
    Then the board answers "+CME ERROR: 518"
    When the host sends "AT%CMNG=3,42,0"
    Then the board answers "+CME ERROR: 518"
    When the host sends "AT+CFUN=4"
    Then the board answers "OK"
    And the board notifies "+CEREG: 0"
    When the host writes "AmazonRootCA1.pem" with LF line ends to tag 42 type 0
    Then the board answers "OK"
    When the host sends "AT%CMNG=1,42"
    Then the board answers exactly:
      """
      %CMNG: 42,0,"2C43952EE9E000FF2ACC4E2ED0897C0A72AD5FA72C3D934E81741CBD54F05BD1"\r\n
      OK\r\n
      """

  Scenario: without +CMEE=1 the same refusal is a plain ERROR
    When the host sends "AT+CMEE=0"
    And the host sends "AT+CFUN=1"
    Then the board notifies "+CEREG: 2" and then "+CEREG: 1"
    When the host writes "AmazonRootCA1.pem" with LF line ends to tag 42 type 0
    Then the board answers "ERROR"
