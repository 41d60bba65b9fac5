package errmap

// Zephyr errno values (positive; calls return them negated), which the
// nRF91 (nrf_modem_os translates the modem's NRF_E* into them) and the
// nRF7002 applications print [S zephyr lib/libc/minimal/include/errno.h,
// nrf91.md §7]. They are not Linux's numbers.
const (
	ENOENT       = 2
	EIO          = 5
	EAGAIN       = 11
	ENOMEM       = 12
	EACCES       = 13
	EINVAL       = 22
	ECONNRESET   = 104
	ECONNREFUSED = 111
	ECONNABORTED = 113
	ENETUNREACH  = 114
	ETIMEDOUT    = 116
	EHOSTUNREACH = 118
	ENOTCONN     = 128
	ECANCELED    = 140
)

// mbedTLS error codes as Zephyr logs them (`TLS handshake error: -0x%x`)
// [S mbedtls include/mbedtls/x509.h, ssl.h, pem.h, asn1.h].
const (
	MbedTLSX509CertVerifyFailed = -0x2700 // MBEDTLS_ERR_X509_CERT_VERIFY_FAILED
	MbedTLSX509InvalidFormat    = -0x2180 // MBEDTLS_ERR_X509_INVALID_FORMAT
	MbedTLSASN1UnexpectedTag    = -0x0062 // MBEDTLS_ERR_ASN1_UNEXPECTED_TAG (added to the X.509 code)
	MbedTLSSSLFatalAlertMessage = -0x7780 // MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE
	MbedTLSSSLConnEOF           = -0x7280 // MBEDTLS_ERR_SSL_CONN_EOF (FAILURE-CASES WS1: -29312)
	MbedTLSSSLInvalidRecord     = -0x7200 // MBEDTLS_ERR_SSL_INVALID_RECORD
	MbedTLSSSLCAChainRequired   = -0x7680 // MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED
	MbedTLSSSLTimeout           = -0x6800 // MBEDTLS_ERR_SSL_TIMEOUT
)

// mbedTLS certificate verification flags (mbedtls_ssl_get_verify_result,
// mbedtls_x509_crt_verify_info) [S mbedtls include/mbedtls/x509.h].
// Seen on a device after the Azure root migration: stack error 9984
// (0x2700) with flags 8 (NOT_TRUSTED) [obs microsoft/azure-iot-central-esp32-sample#5].
const (
	BadCertExpired    uint32 = 0x01   // MBEDTLS_X509_BADCERT_EXPIRED
	BadCertCNMismatch uint32 = 0x04   // MBEDTLS_X509_BADCERT_CN_MISMATCH
	BadCertNotTrusted uint32 = 0x08   // MBEDTLS_X509_BADCERT_NOT_TRUSTED
	BadCertOther      uint32 = 0x0100 // MBEDTLS_X509_BADCERT_OTHER
	BadCertFuture     uint32 = 0x0200 // MBEDTLS_X509_BADCERT_FUTURE
)
