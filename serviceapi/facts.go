package serviceapi

import "net/http"

// Facts about the real service APIs, each written once with its source.
const (
	// HubAPIVersion is the api-version the Node service SDK sends
	// [src azure-iothub 1.16 dist/version.js]. Any value is accepted [inf].
	HubAPIVersion = "2021-04-12"
	// DPSAPIVersion is the api-version of the DPS service SDK
	// [src azure-iot-provisioning-service 1.11 _versionQueryString].
	DPSAPIVersion = "2021-10-01"

	// DefaultDPSServiceHostName is the emulated DPS instance's own host name
	// (the service endpoint of a connection string; devices use the global
	// endpoint). Real names are <instance>.azure-devices-provisioning.net
	// [doc P-MQTT]; the instance name is the emulator's choice [inf].
	DefaultDPSServiceHostName = "modemsim-dps.azure-devices-provisioning.net"

	// DPSOwnerPolicy is the shared access policy every DPS instance has
	// [doc learn.microsoft.com iot-dps how-to-control-access].
	DPSOwnerPolicy = "provisioningserviceowner"

	// Method timeouts: responseTimeoutInSeconds default 30, 5..300
	// [doc iot-hub-devguide-direct-methods; src azure-iothub DeviceMethod.defaultResponseTimeout].
	defaultMethodTimeout = 30
	minMethodTimeout     = 5
	maxMethodTimeout     = 300

	// maxBody bounds a request body: the largest documented one is a
	// 128 KB method payload [doc D-QUOTA]; twins are 32 KB + 8 KB.
	maxBody = 256 * 1024
)

// DPS policy rights [doc iot-dps how-to-control-access].
const (
	RightServiceConfig          = "ServiceConfig"
	RightEnrollmentRead         = "EnrollmentRead"
	RightEnrollmentWrite        = "EnrollmentWrite"
	RightRegistrationStatusRead = "RegistrationStatusRead"
	RightRegistrationWrite      = "RegistrationStatusWrite"
)

// hubError is one IoT Hub service error: HTTP status, the error code the
// SDKs parse out of `{"Message":"ErrorCode:<code>;<text>"}` and the numeric
// code [src azure-iot-sdk-node common/transport/http/src/http.ts
// parseErrorBody, rest_api_client.ts translateError; doc
// iot-hub-troubleshoot-error-* pages for the numbers].
type hubError struct {
	status int
	code   string
	number int
}

var (
	errDeviceNotFound     = hubError{http.StatusNotFound, "DeviceNotFound", 404001}
	errDeviceExists       = hubError{http.StatusConflict, "DeviceAlreadyExists", 409001}
	errUnauthorized       = hubError{http.StatusUnauthorized, "IotHubUnauthorizedAccess", 401002}
	errDeviceNotOnline    = hubError{http.StatusNotFound, "DeviceNotOnline", 404103}
	errGatewayTimeout     = hubError{http.StatusGatewayTimeout, "GatewayTimeout", 504101}
	errPreconditionFailed = hubError{http.StatusPreconditionFailed, "PreconditionFailed", 412002}
	errArgumentInvalid    = hubError{http.StatusBadRequest, "ArgumentInvalid", 400004}
	errMessageTooLarge    = hubError{http.StatusRequestEntityTooLarge, "MessageTooLarge", 413001}
	errNotImplemented     = hubError{http.StatusNotFound, "NotFound", 404000}
	errInternal           = hubError{http.StatusInternalServerError, "ServerError", 500001}
)

// DPS error numbers: errorCode/1000 is the HTTP status (§2.2 [src S-PROV]);
// 401002 is the documented "unauthorized" one (§2.4), 404201 "enrollment
// not found", 412 etag mismatch [inf for the last digits].
const (
	dpsUnauthorized   = 401002
	dpsNotFound       = 404201
	dpsBadRequest     = 400004
	dpsPrecondition   = 412002
	dpsInternal       = 500000
	dpsNotImplemented = 404000
	dpsExists         = 409201
	dpsTooLarge       = 413000
)
