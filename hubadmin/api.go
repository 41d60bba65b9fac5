// Package hubadmin is the loopback HTTP+JSON administration API of the
// emulated Azure IoT Hub + DPS (package hub) and a typed client for it.
//
// The API mirrors what users do with `az iot hub` / `az iot dps`: device
// identities (SAS or X.509), CA certificates with proof of possession, twins,
// direct methods, cloud-to-device messages, a telemetry stream, connection
// attempts and the reasons behind every refusal, DPS enrollments, groups and
// certificates, plus two helpers real services do not have: device SAS tokens
// for tools such as mosquitto (GET /sas-token) and the stand-in root PEMs a
// tool must trust (GET /roots/{name}).
//
// Errors are JSON {"error": "..."}: 404 for unknown resources (and a device
// that is not online, as the real service answers 404103), 400 for bad input
// and failed proofs of possession, 409 for a resource that exists, 504 for a
// direct method the device did not answer in time.
//
// Only its owner may drive it: the handler accepts loopback Host names
// and configured ones (WithAllowedHosts), refuses cross-origin writes and
// bodies that are not JSON, and with WithToken requires a token on every
// request, which is how `modemsim hub serve` serves an address that is not
// loopback (see guard.go).
package hubadmin

import (
	"encoding/json"
	"time"

	"github.com/modemsim/modemsim/hub"
)

// Info describes the running emulator (GET /info).
type Info struct {
	HostName      string `json:"hostName"`
	DPSHostName   string `json:"dpsHostName"`
	IDScope       string `json:"idScope"`
	MQTTAddr      string `json:"mqttAddr,omitempty"`
	WebSocketAddr string `json:"webSocketAddr,omitempty"`
	HubRoot       string `json:"hubRoot"`
	DPSRoot       string `json:"dpsRoot"`
	Now           string `json:"now"`
}

// DeviceRequest is the body of PUT /devices/{id}. Auth takes the registry
// names (sas, selfSigned, certificateAuthority) or the az/CLI spellings
// (see ParseAuth). Empty SAS keys are generated.
type DeviceRequest struct {
	Auth                string `json:"authenticationType"`
	PrimaryKey          string `json:"primaryKey,omitempty"`
	SecondaryKey        string `json:"secondaryKey,omitempty"`
	PrimaryThumbprint   string `json:"primaryThumbprint,omitempty"`
	SecondaryThumbprint string `json:"secondaryThumbprint,omitempty"`
	Disabled            bool   `json:"disabled,omitempty"`
}

// CertificateRequest is the body of PUT /certificates/{name},
// PUT /dps/certificates/{name} and of the verify calls (PEM only).
type CertificateRequest struct {
	PEM string `json:"pem"`
	// Verified models "set certificate status to verified on upload".
	Verified bool `json:"verified,omitempty"`
}

// VerificationCode is the answer of POST …/verification-code.
type VerificationCode struct {
	Name string `json:"name"`
	Code string `json:"verificationCode"`
}

// C2DRequest is the body of POST /devices/{id}/c2d. Payload is sent as
// text; PayloadBase64, if set, takes precedence for binary payloads.
type C2DRequest struct {
	Payload       string            `json:"payload,omitempty"`
	PayloadBase64 []byte            `json:"payloadBase64,omitempty"`
	Properties    map[string]string `json:"properties,omitempty"`
}

// C2DResponse is the answer of POST /devices/{id}/c2d.
type C2DResponse struct {
	MessageID string `json:"messageId"`
}

// MethodRequest is the body of POST /devices/{id}/methods/{name}.
type MethodRequest struct {
	// Payload is the JSON sent to the device (absent: empty body).
	Payload json.RawMessage `json:"payload,omitempty"`
	// TimeoutSeconds bounds the wait for the device (default DefaultMethodTimeout).
	TimeoutSeconds int `json:"responseTimeoutInSeconds,omitempty"`
}

// MethodResponse is the device's answer. Payload is the device's body when
// it is JSON, otherwise the body as a JSON string.
type MethodResponse struct {
	Status  int             `json:"status"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// SASToken is the answer of GET /sas-token: everything a raw MQTT client
// needs to connect as the device.
type SASToken struct {
	DeviceID string    `json:"deviceId"`
	HostName string    `json:"hostName"`
	Resource string    `json:"resource"`
	Token    string    `json:"token"`
	Expiry   time.Time `json:"expiry"`
	// ClientID and Username are the CONNECT fields (§1.2).
	ClientID string `json:"clientId"`
	Username string `json:"username"`
}

// TelemetryEvent is one line of GET /telemetry: the hub's message plus the
// payload as text when it is valid UTF-8.
type TelemetryEvent struct {
	hub.Message
	Text string `json:"text,omitempty"`
}

// Reason is one hub or DPS refusal in the merged GET /reasons list.
// Service is "hub" or "dps"; ID is the device or registration ID.
type Reason struct {
	Time    time.Time         `json:"time"`
	Service string            `json:"service"`
	ID      string            `json:"id,omitempty"`
	Check   string            `json:"check"`
	Detail  string            `json:"detail"`
	Values  map[string]string `json:"values,omitempty"`
}

// errorBody is every error answer.
type errorBody struct {
	Error string `json:"error"`
}

// DefaultMethodTimeout is used when a method request names no timeout. The
// real service defaults to 30 s (az iot hub invoke-device-method
// --timeout default) [I].
const DefaultMethodTimeout = 30 * time.Second

// DefaultSASTTL is the token lifetime when GET /sas-token names none
// (az iot hub generate-sas-token --duration default: 3600 s) [I].
const DefaultSASTTL = time.Hour

// MaxSASTTL bounds GET /sas-token's ttl. The service documents no limit;
// ten years keeps expiry arithmetic far from overflow and covers every
// lifetime a device uses [I].
const MaxSASTTL = 10 * 365 * 24 * time.Hour

// APIVersion goes into the CONNECT user name `{hub}/{device}/?api-version=…`
// (azure-iot-hub.md §1.2 [doc D-MQTT]).
const APIVersion = "2021-04-12"
