package hubadmin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/hub"
)

// DefaultAddr is where `modemsim hub serve` listens for the admin API
// (loopback, unprivileged).
const DefaultAddr = "127.0.0.1:8480"

// APIError is a non-2xx answer of the admin API.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("admin API: %d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// Is lets callers test API errors against the services' sentinels:
// errors.Is(err, hub.ErrNotFound) holds for a 404, hub.ErrExists for a 409,
// hub.ErrInvalid for a 400.
func (e *APIError) Is(target error) bool {
	switch e.Status {
	case http.StatusNotFound:
		return target == hub.ErrNotFound || target == dps.ErrNotFound
	case http.StatusConflict:
		return target == hub.ErrExists || target == dps.ErrExists
	case http.StatusBadRequest:
		return target == hub.ErrInvalid || target == dps.ErrInvalid
	case http.StatusGatewayTimeout:
		return target == hub.ErrMethodTimeout
	}
	return false
}

// Client talks to the admin API.
type Client struct {
	base string
	hc   *http.Client
}

// NewClient returns a client for the API at base (e.g. http://127.0.0.1:8480).
// hc nil means http.DefaultClient.
func NewClient(base string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(base, "/"), hc: hc}
}

// do sends a request with an optional JSON body and decodes a JSON answer into out.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	resp, err := c.send(ctx, method, path, in, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("admin API %s %s: decoding answer: %w", method, path, err)
	}
	return nil
}

func (c *Client) send(ctx context.Context, method, path string, in any, accept string) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		var b []byte
		if raw, ok := in.(json.RawMessage); ok {
			b = raw
		} else {
			var err error
			if b, err = json.Marshal(in); err != nil {
				return nil, fmt.Errorf("admin API: encoding request: %w", err)
			}
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("admin API: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("admin API %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		var eb errorBody
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		if json.Unmarshal(b, &eb) != nil || eb.Error == "" {
			eb.Error = strings.TrimSpace(string(b))
		}
		return nil, &APIError{Status: resp.StatusCode, Message: eb.Error}
	}
	return resp, nil
}

func esc(s string) string { return url.PathEscape(s) }

// Info describes the running emulator.
func (c *Client) Info(ctx context.Context) (Info, error) {
	var out Info
	return out, c.do(ctx, http.MethodGet, "/info", nil, &out)
}

// Devices lists the device identities.
func (c *Client) Devices(ctx context.Context) ([]hub.Device, error) {
	var out []hub.Device
	return out, c.do(ctx, http.MethodGet, "/devices", nil, &out)
}

// Device returns one device identity.
func (c *Client) Device(ctx context.Context, id string) (hub.Device, error) {
	var out hub.Device
	return out, c.do(ctx, http.MethodGet, "/devices/"+esc(id), nil, &out)
}

// CreateDevice creates a device identity.
func (c *Client) CreateDevice(ctx context.Context, id string, req DeviceRequest) (hub.Device, error) {
	var out hub.Device
	return out, c.do(ctx, http.MethodPut, "/devices/"+esc(id), req, &out)
}

// DeleteDevice deletes a device identity.
func (c *Client) DeleteDevice(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/devices/"+esc(id), nil, nil)
}

// SetDeviceEnabled enables or disables a device.
func (c *Client) SetDeviceEnabled(ctx context.Context, id string, enabled bool) (hub.Device, error) {
	op := "/disable"
	if enabled {
		op = "/enable"
	}
	var out hub.Device
	return out, c.do(ctx, http.MethodPost, "/devices/"+esc(id)+op, nil, &out)
}

// Twin returns a device twin.
func (c *Client) Twin(ctx context.Context, id string) (hub.Twin, error) {
	var out hub.Twin
	return out, c.do(ctx, http.MethodGet, "/devices/"+esc(id)+"/twin", nil, &out)
}

// UpdateDesired applies a JSON merge patch to the desired properties.
func (c *Client) UpdateDesired(ctx context.Context, id string, patch json.RawMessage) (hub.Twin, error) {
	var out hub.Twin
	return out, c.do(ctx, http.MethodPatch, "/devices/"+esc(id)+"/twin", patch, &out)
}

// InvokeMethod calls a direct method on a connected device.
func (c *Client) InvokeMethod(ctx context.Context, id, name string, req MethodRequest) (MethodResponse, error) {
	var out MethodResponse
	return out, c.do(ctx, http.MethodPost, "/devices/"+esc(id)+"/methods/"+esc(name), req, &out)
}

// SendC2D queues a cloud-to-device message.
func (c *Client) SendC2D(ctx context.Context, id string, req C2DRequest) (string, error) {
	var out C2DResponse
	return out.MessageID, c.do(ctx, http.MethodPost, "/devices/"+esc(id)+"/c2d", req, &out)
}

// PendingC2D lists the messages the device has not completed yet.
func (c *Client) PendingC2D(ctx context.Context, id string) ([]hub.C2DMessage, error) {
	var out []hub.C2DMessage
	return out, c.do(ctx, http.MethodGet, "/devices/"+esc(id)+"/c2d", nil, &out)
}

// SASToken returns a device SAS token valid for ttl (0: DefaultSASTTL).
func (c *Client) SASToken(ctx context.Context, id string, ttl time.Duration) (SASToken, error) {
	q := url.Values{"device": {id}}
	if ttl > 0 {
		q.Set("ttl", ttl.String())
	}
	var out SASToken
	return out, c.do(ctx, http.MethodGet, "/sas-token?"+q.Encode(), nil, &out)
}

// Attempts lists recent connection attempts (device "" = all).
func (c *Client) Attempts(ctx context.Context, device string) ([]hub.Attempt, error) {
	path := "/attempts"
	if device != "" {
		path += "?" + url.Values{"device": {device}}.Encode()
	}
	var out []hub.Attempt
	return out, c.do(ctx, http.MethodGet, path, nil, &out)
}

// Reasons lists the hub and DPS refusal reasons, newest last.
func (c *Client) Reasons(ctx context.Context) ([]Reason, error) {
	var out []Reason
	return out, c.do(ctx, http.MethodGet, "/reasons", nil, &out)
}

// CAs lists the hub's CA certificates.
func (c *Client) CAs(ctx context.Context) ([]hub.CACertificate, error) {
	var out []hub.CACertificate
	return out, c.do(ctx, http.MethodGet, "/certificates", nil, &out)
}

// UploadCA uploads a CA certificate to the hub.
func (c *Client) UploadCA(ctx context.Context, name string, pem []byte, verified bool) (hub.CACertificate, error) {
	var out hub.CACertificate
	return out, c.do(ctx, http.MethodPut, "/certificates/"+esc(name), CertificateRequest{PEM: string(pem), Verified: verified}, &out)
}

// DeleteCA removes a hub CA certificate.
func (c *Client) DeleteCA(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/certificates/"+esc(name), nil, nil)
}

// CAVerificationCode asks for a new proof-of-possession code.
func (c *Client) CAVerificationCode(ctx context.Context, name string) (string, error) {
	var out VerificationCode
	return out.Code, c.do(ctx, http.MethodPost, "/certificates/"+esc(name)+"/verification-code", nil, &out)
}

// VerifyCA sends the proof-of-possession certificate.
func (c *Client) VerifyCA(ctx context.Context, name string, pem []byte) (hub.CACertificate, error) {
	var out hub.CACertificate
	return out, c.do(ctx, http.MethodPost, "/certificates/"+esc(name)+"/verify", CertificateRequest{PEM: string(pem)}, &out)
}

// Enrollments lists the DPS individual enrollments.
func (c *Client) Enrollments(ctx context.Context) ([]dps.IndividualEnrollment, error) {
	var out []dps.IndividualEnrollment
	return out, c.do(ctx, http.MethodGet, "/dps/enrollments", nil, &out)
}

// PutEnrollment creates or replaces an individual enrollment; e.Enabled is
// sent as is (the API defaults it to true only when the field is absent).
func (c *Client) PutEnrollment(ctx context.Context, e dps.IndividualEnrollment) (dps.IndividualEnrollment, error) {
	var out dps.IndividualEnrollment
	return out, c.do(ctx, http.MethodPut, "/dps/enrollments/"+esc(e.RegistrationID), e, &out)
}

// DeleteEnrollment removes an individual enrollment.
func (c *Client) DeleteEnrollment(ctx context.Context, registrationID string) error {
	return c.do(ctx, http.MethodDelete, "/dps/enrollments/"+esc(registrationID), nil, nil)
}

// Groups lists the DPS enrollment groups.
func (c *Client) Groups(ctx context.Context) ([]dps.GroupEnrollment, error) {
	var out []dps.GroupEnrollment
	return out, c.do(ctx, http.MethodGet, "/dps/enrollment-groups", nil, &out)
}

// PutGroup creates or replaces an enrollment group.
func (c *Client) PutGroup(ctx context.Context, g dps.GroupEnrollment) (dps.GroupEnrollment, error) {
	var out dps.GroupEnrollment
	return out, c.do(ctx, http.MethodPut, "/dps/enrollment-groups/"+esc(g.GroupID), g, &out)
}

// DeleteGroup removes an enrollment group.
func (c *Client) DeleteGroup(ctx context.Context, groupID string) error {
	return c.do(ctx, http.MethodDelete, "/dps/enrollment-groups/"+esc(groupID), nil, nil)
}

// DPSCAs lists the DPS certificate store.
func (c *Client) DPSCAs(ctx context.Context) ([]dps.CACertificate, error) {
	var out []dps.CACertificate
	return out, c.do(ctx, http.MethodGet, "/dps/certificates", nil, &out)
}

// UploadDPSCA uploads a CA certificate to the DPS store.
func (c *Client) UploadDPSCA(ctx context.Context, name string, pem []byte, verified bool) (dps.CACertificate, error) {
	var out dps.CACertificate
	return out, c.do(ctx, http.MethodPut, "/dps/certificates/"+esc(name), CertificateRequest{PEM: string(pem), Verified: verified}, &out)
}

// DeleteDPSCA removes a CA from the DPS store.
func (c *Client) DeleteDPSCA(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/dps/certificates/"+esc(name), nil, nil)
}

// DPSCAVerificationCode asks DPS for a new proof-of-possession code.
func (c *Client) DPSCAVerificationCode(ctx context.Context, name string) (string, error) {
	var out VerificationCode
	return out.Code, c.do(ctx, http.MethodPost, "/dps/certificates/"+esc(name)+"/verification-code", nil, &out)
}

// VerifyDPSCA sends the proof-of-possession certificate to DPS.
func (c *Client) VerifyDPSCA(ctx context.Context, name string, pem []byte) (dps.CACertificate, error) {
	var out dps.CACertificate
	return out, c.do(ctx, http.MethodPost, "/dps/certificates/"+esc(name)+"/verify", CertificateRequest{PEM: string(pem)}, &out)
}

// Registrations lists the DPS registration records.
func (c *Client) Registrations(ctx context.Context) ([]dps.Registration, error) {
	var out []dps.Registration
	return out, c.do(ctx, http.MethodGet, "/dps/registrations", nil, &out)
}

// Root returns the PEM of a stand-in root (see GET /roots/{name}).
func (c *Client) Root(ctx context.Context, name string) ([]byte, error) {
	resp, err := c.send(ctx, http.MethodGet, "/roots/"+esc(name), nil, "")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("admin API: reading root: %w", err)
	}
	return b, nil
}

// Telemetry streams device-to-cloud messages (device "" = all) to fn until
// ctx ends (then it returns nil), the stream breaks, or fn returns an error.
func (c *Client) Telemetry(ctx context.Context, device string, fn func(TelemetryEvent) error) error {
	return c.TelemetrySince(ctx, device, "", fn)
}

// TelemetrySince is Telemetry starting with the retained messages received
// since an RFC 3339 time or a duration ago on the hub's clock ("10m"); ""
// means only new messages.
func (c *Client) TelemetrySince(ctx context.Context, device, since string, fn func(TelemetryEvent) error) error {
	q := url.Values{}
	if device != "" {
		q.Set("device", device)
	}
	if since != "" {
		q.Set("since", since)
	}
	path := "/telemetry"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	resp, err := c.send(ctx, http.MethodGet, path, nil, "application/x-ndjson")
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4*maxBody) // D2C messages are ≤256 KB, base64 grows them
	for sc.Scan() {
		var ev TelemetryEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return fmt.Errorf("admin API telemetry: %w", err)
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("admin API telemetry: %w", err)
	}
	return errors.New("admin API telemetry: stream ended")
}
