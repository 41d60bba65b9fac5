Feature: W1–W4 on the nRF7002 DK, the credential side: the Zephyr TLS credentials shell
  The nRF7002 DK has no modem, so the cellular tools cannot reach its
  certificates. They go in through the Zephyr shell's `cred` commands (which
  nrfcredstore's TLS shell interface drives in 48-character base64 chunks)
  or are compiled in from mqtt-certs.h. These scenarios replay what the
  forum user typed and what the board printed; the connection itself is the
  azure_iot_hub sample's part.

  Scenario: W1 the certificates went to another sec tag than the sample uses
    Given an nRF7002 DK running the Zephyr shell with a 4096-byte credential buffer
    When the user provisions "DigiCert_Global_Root_G2.pem" to sec tag 11 as CA with nrfcredstore's TLS shell interface
    And the user types "cred list 10"
    Then the shell prints "0 credentials found."
    When the user types "cred list"
    Then the shell prints:
      """
      11,CA,lbKhd+LYbq1HrIngYNmRaf7+cHCGpMyFGuuBMjneeik=,0
      1 credentials found.
      """
    When the sample connects with CONFIG_MQTT_HELPER_SEC_TAG=10
    Then the sample logs "<err> mqtt_helper: mqtt_connect, error: -2"

  Scenario: W2 made-up PEM labels in mqtt-certs.h are stored, then refused by mbedTLS
    Given an nRF7002 DK running the Zephyr shell
    When the sample is built with the forum's mqtt-certs.h and "ca-cert-ca-labels.pem" as ca-cert.pem
    And the sample connects with CONFIG_MQTT_HELPER_SEC_TAG=10
    Then the sample logs "<err> net_sock_tls: Failed to parse CA certificate, err: -0x2180"
    And the sample logs "<err> mqtt_helper: mqtt_connect, error: -22"

  Scenario: W2 fixed: standard BEGIN CERTIFICATE labels
    Given an nRF7002 DK running the Zephyr shell
    When the sample is built with the forum's mqtt-certs.h and "ca-cert-fixed.pem" as ca-cert.pem
    And the sample connects with CONFIG_MQTT_HELPER_SEC_TAG=10
    Then the sample logs no error
    When the user types "cred list 10 CA"
    Then the shell prints "1 credentials found."

  Scenario: W3 the CA certificate provisioned as the device certificate shows in cred list
    Given an nRF7002 DK running the Zephyr shell with a 4096-byte credential buffer
    When the user provisions "DigiCert_Global_Root_G2.pem" to sec tag 10 as CA with nrfcredstore's TLS shell interface
    And the user provisions "DigiCert_Global_Root_G2.pem" to sec tag 10 as SERV with nrfcredstore's TLS shell interface
    And the user types "cred list 10"
    Then the shell prints:
      """
      10,CA,lbKhd+LYbq1HrIngYNmRaf7+cHCGpMyFGuuBMjneeik=,0
      10,SERV,lbKhd+LYbq1HrIngYNmRaf7+cHCGpMyFGuuBMjneeik=,0
      2 credentials found.
      """

  Scenario: W4 Baltimore only: the old root is replaced by DigiCert Global Root G2
    Given an nRF7002 DK running the Zephyr shell with a 4096-byte credential buffer
    When the user provisions "Baltimore_CyberTrust_Root.pem" to sec tag 10 as CA with nrfcredstore's TLS shell interface
    Then nrfcredstore's TLS shell interface finds "Baltimore_CyberTrust_Root.pem" at sec tag 10 as CA with the digest it expects
    When the user types "cred add 10 CA DEFAULT bint QUJD"
    Then the shell prints:
      """
      Stored 4 bytes.
      TLS credential with sectag 10 and type CA_CERT already exists.
      Credential buffer cleared.
      """
    When the user types "cred del 10 CA"
    Then the shell prints "Deleted TLS credential with sectag 10 and type CA_CERT."
    When the user provisions "DigiCert_Global_Root_G2.pem" to sec tag 10 as CA with nrfcredstore's TLS shell interface
    Then nrfcredstore's TLS shell interface finds "DigiCert_Global_Root_G2.pem" at sec tag 10 as CA with the digest it expects

  Scenario: the credentials survive a cold reboot (protected storage)
    Given an nRF7002 DK running the Zephyr shell with a 4096-byte credential buffer
    When the user provisions "AmazonRootCA1.pem" to sec tag 42 as CA with nrfcredstore's TLS shell interface
    And the user types "kernel reboot cold"
    Then the shell prints "*** Booting nRF Connect SDK v2.5.0 ***"
    When the user types "cred list 42"
    Then the shell prints "1 credentials found."
