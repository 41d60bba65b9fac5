package serviceapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/modemsim/modemsim/hub"
)

// CheckServiceAuth is the reason check of a refused service API call.
const CheckServiceAuth hub.Check = "service-sas"

// zeroTime is how the hub writes "never" [obs REST responses].
const zeroTime = "0001-01-01T00:00:00Z"

// symmetricKeyJSON, thumbprintJSON, authenticationJSON and deviceJSON are
// the registry's Device shape (azure-rest-api-specs iothub data-plane
// "Device"; the fields the Node SDK's Device class declares).
type symmetricKeyJSON struct {
	PrimaryKey   *string `json:"primaryKey"`
	SecondaryKey *string `json:"secondaryKey"`
}

type thumbprintJSON struct {
	PrimaryThumbprint   *string `json:"primaryThumbprint"`
	SecondaryThumbprint *string `json:"secondaryThumbprint"`
}

type authenticationJSON struct {
	Type           string            `json:"type"`
	SymmetricKey   *symmetricKeyJSON `json:"symmetricKey,omitempty"`
	X509Thumbprint *thumbprintJSON   `json:"x509Thumbprint,omitempty"`
}

type capabilitiesJSON struct {
	IotEdge bool `json:"iotEdge"`
}

type deviceJSON struct {
	DeviceID                   string             `json:"deviceId"`
	GenerationID               string             `json:"generationId,omitempty"`
	ETag                       string             `json:"etag,omitempty"`
	ConnectionState            string             `json:"connectionState,omitempty"`
	Status                     string             `json:"status,omitempty"`
	StatusReason               *string            `json:"statusReason"`
	ConnectionStateUpdatedTime string             `json:"connectionStateUpdatedTime,omitempty"`
	StatusUpdatedTime          string             `json:"statusUpdatedTime,omitempty"`
	LastActivityTime           string             `json:"lastActivityTime,omitempty"`
	CloudToDeviceMessageCount  int                `json:"cloudToDeviceMessageCount"`
	Authentication             authenticationJSON `json:"authentication"`
	Capabilities               capabilitiesJSON   `json:"capabilities"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func statusOf(disabled bool) string {
	if disabled {
		return "disabled"
	}
	return "enabled"
}

func (a *API) connectionState(id string) string {
	if a.e.Connected(id) {
		return "Connected"
	}
	return "Disconnected"
}

func (a *API) deviceOut(d hub.Device) deviceJSON {
	return deviceJSON{
		DeviceID:                   d.ID,
		GenerationID:               strconv.FormatInt(d.Created.UnixNano(), 10),
		ETag:                       d.ETag(),
		ConnectionState:            a.connectionState(d.ID),
		Status:                     statusOf(d.Disabled),
		ConnectionStateUpdatedTime: zeroTime,
		StatusUpdatedTime:          zeroTime,
		LastActivityTime:           zeroTime,
		CloudToDeviceMessageCount:  len(a.e.PendingC2D(d.ID)),
		Authentication: authenticationJSON{
			Type:           string(d.Auth),
			SymmetricKey:   &symmetricKeyJSON{strPtr(d.PrimaryKey), strPtr(d.SecondaryKey)},
			X509Thumbprint: &thumbprintJSON{strPtr(d.PrimaryThumbprint), strPtr(d.SecondaryThumbprint)},
		},
	}
}

// DecodeDevice parses a registry PUT body into a DeviceSpec for id (the
// path's device id wins over the body's, which must match when present).
func DecodeDevice(id string, body []byte) (hub.DeviceSpec, error) {
	var in deviceJSON
	if err := decodeStrict(body, &in); err != nil {
		return hub.DeviceSpec{}, err
	}
	if in.DeviceID != "" && in.DeviceID != id {
		return hub.DeviceSpec{}, fmt.Errorf("body deviceId %q differs from the path's %q", in.DeviceID, id)
	}
	spec := hub.DeviceSpec{ID: id}
	switch strings.ToLower(in.Status) {
	case "", "enabled":
	case "disabled":
		spec.Disabled = true
	default:
		return hub.DeviceSpec{}, fmt.Errorf("status %q (want enabled or disabled)", in.Status)
	}
	au := in.Authentication
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	switch au.Type {
	case "", "sas":
		spec.Auth = hub.AuthSAS
		if au.SymmetricKey != nil {
			spec.PrimaryKey, spec.SecondaryKey = deref(au.SymmetricKey.PrimaryKey), deref(au.SymmetricKey.SecondaryKey)
		}
	case "selfSigned":
		spec.Auth = hub.AuthSelfSigned
		if au.X509Thumbprint != nil {
			spec.PrimaryThumbprint, spec.SecondaryThumbprint = deref(au.X509Thumbprint.PrimaryThumbprint), deref(au.X509Thumbprint.SecondaryThumbprint)
		}
	case "certificateAuthority":
		spec.Auth = hub.AuthCA
	default:
		return hub.DeviceSpec{}, fmt.Errorf("authentication type %q is not emulated (sas, selfSigned, certificateAuthority)", au.Type)
	}
	return spec, nil
}

// decodeStrict parses one JSON value (numbers kept exact) and nothing after it.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	if dec.More() {
		return errors.New("body: trailing data after the JSON value")
	}
	return nil
}

// twinJSON is the twin as the service API returns it (REST spec "Twin").
type twinJSON struct {
	DeviceID                  string           `json:"deviceId"`
	ETag                      string           `json:"etag"`
	DeviceETag                string           `json:"deviceEtag"`
	Status                    string           `json:"status"`
	StatusUpdateTime          string           `json:"statusUpdateTime"`
	ConnectionState           string           `json:"connectionState"`
	LastActivityTime          string           `json:"lastActivityTime"`
	CloudToDeviceMessageCount int              `json:"cloudToDeviceMessageCount"`
	AuthenticationType        string           `json:"authenticationType"`
	X509Thumbprint            thumbprintJSON   `json:"x509Thumbprint"`
	ModelID                   string           `json:"modelId"`
	Version                   int64            `json:"version"`
	Tags                      map[string]any   `json:"tags"`
	Properties                twinPropsJSON    `json:"properties"`
	Capabilities              capabilitiesJSON `json:"capabilities"`
}

type twinPropsJSON struct {
	Desired  map[string]any `json:"desired"`
	Reported map[string]any `json:"reported"`
}

func withVersion(m map[string]any, v int64) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, x := range m {
		out[k] = x
	}
	out["$version"] = v
	return out
}

func (a *API) twinOut(d hub.Device) twinJSON {
	tags := d.Twin.Tags
	if tags == nil {
		tags = map[string]any{}
	}
	return twinJSON{
		DeviceID: d.ID, ETag: d.Twin.ETag(), DeviceETag: d.ETag(), Status: statusOf(d.Disabled),
		StatusUpdateTime: zeroTime, ConnectionState: a.connectionState(d.ID), LastActivityTime: zeroTime,
		CloudToDeviceMessageCount: len(a.e.PendingC2D(d.ID)), AuthenticationType: string(d.Auth),
		X509Thumbprint: thumbprintJSON{strPtr(d.PrimaryThumbprint), strPtr(d.SecondaryThumbprint)},
		Version:        d.Twin.TwinVersion(), Tags: tags,
		Properties: twinPropsJSON{
			Desired:  withVersion(d.Twin.Desired, d.Twin.DesiredVersion),
			Reported: withVersion(d.Twin.Reported, d.Twin.ReportedVersion),
		},
	}
}

// TwinPatch is a service-side twin patch: tags and desired properties
// (JSON merge patches; nil when absent).
type TwinPatch struct {
	Tags    map[string]any
	Desired map[string]any
}

// DecodeTwinPatch parses a twin PATCH body
// (`{"tags":{…},"properties":{"desired":{…}}}`); reported properties belong
// to the device and are refused.
func DecodeTwinPatch(body []byte) (TwinPatch, error) {
	var in struct {
		Tags       map[string]any `json:"tags"`
		Properties *struct {
			Desired  map[string]any `json:"desired"`
			Reported map[string]any `json:"reported"`
		} `json:"properties"`
	}
	if err := decodeStrict(body, &in); err != nil {
		return TwinPatch{}, err
	}
	p := TwinPatch{Tags: in.Tags}
	if in.Properties != nil {
		if in.Properties.Reported != nil {
			return TwinPatch{}, errors.New("reported properties are read-only for the service")
		}
		p.Desired = in.Properties.Desired
	}
	return p, nil
}

// MethodCall is a direct method request body of the service API.
type MethodCall struct {
	MethodName               string          `json:"methodName"`
	Payload                  json.RawMessage `json:"payload"`
	ResponseTimeoutInSeconds int             `json:"responseTimeoutInSeconds"`
	ConnectTimeoutInSeconds  int             `json:"connectTimeoutInSeconds"`
}

// DecodeMethodCall parses and bounds a method request.
func DecodeMethodCall(body []byte) (MethodCall, error) {
	var m MethodCall
	if err := decodeStrict(body, &m); err != nil {
		return MethodCall{}, err
	}
	if m.MethodName == "" {
		return MethodCall{}, errors.New("methodName is required")
	}
	if m.ResponseTimeoutInSeconds == 0 {
		m.ResponseTimeoutInSeconds = defaultMethodTimeout
	}
	if m.ResponseTimeoutInSeconds < minMethodTimeout || m.ResponseTimeoutInSeconds > maxMethodTimeout {
		return MethodCall{}, fmt.Errorf("responseTimeoutInSeconds %d outside %d..%d", m.ResponseTimeoutInSeconds, minMethodTimeout, maxMethodTimeout)
	}
	if m.ConnectTimeoutInSeconds < 0 || m.ConnectTimeoutInSeconds > maxMethodTimeout {
		return MethodCall{}, fmt.Errorf("connectTimeoutInSeconds %d outside 0..%d", m.ConnectTimeoutInSeconds, maxMethodTimeout)
	}
	return m, nil
}

// hubRoutes mounts the IoT Hub service routes the Node SDK calls
// [src azure-iothub dist/registry.js, twin.js, device_method.js].
func (a *API) hubRoutes(mux *http.ServeMux) {
	read := []string{string(hub.RightRegistryRead)}
	write := []string{string(hub.RightRegistryWrite)}
	service := []string{string(hub.RightServiceConnect)}
	twinRead := []string{string(hub.RightRegistryRead), string(hub.RightServiceConnect)}
	mux.HandleFunc("GET /devices", a.hubCall(read, a.listDevices))
	mux.HandleFunc("GET /devices/{$}", a.hubCall(read, a.listDevices))
	mux.HandleFunc("GET /devices/{id}", a.hubCall(read, a.getDevice))
	mux.HandleFunc("PUT /devices/{id}", a.hubCall(write, a.putDevice))
	mux.HandleFunc("DELETE /devices/{id}", a.hubCall(write, a.deleteDevice))
	mux.HandleFunc("GET /twins/{id}", a.hubCall(twinRead, a.getTwin))
	mux.HandleFunc("PATCH /twins/{id}", a.hubCall(service, a.patchTwin))
	mux.HandleFunc("POST /twins/{id}/methods", a.hubCall(service, a.invokeMethod))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeHubError(w, errNotImplemented, "the emulator does not serve "+r.Method+" "+r.URL.Path)
	})
}

// hubCall authorizes, reads the body and maps errors to the hub's error bodies.
func (a *API) hubCall(rights []string, f func(r *http.Request, body []byte) (int, any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := a.hubAuth.authorize(r, rights...); err != nil {
			a.refused("hub", r, err)
			writeHubError(w, errUnauthorized, err.Error())
			return
		}
		body, err := readBody(w, r)
		if err != nil {
			writeHubError(w, errMessageTooLarge, err.Error())
			return
		}
		status, out, err := f(r, body)
		if err != nil {
			he, msg := hubErrorOf(err)
			writeHubError(w, he, msg)
			return
		}
		if out == nil {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, out)
	}
}

// badRequest marks a decode error as the client's.
type badRequest struct{ error }

func hubErrorOf(err error) (hubError, string) {
	var br badRequest
	switch {
	case errors.As(err, &br), errors.Is(err, hub.ErrInvalid):
		return errArgumentInvalid, err.Error()
	case errors.Is(err, hub.ErrNotFound):
		return errDeviceNotFound, err.Error()
	case errors.Is(err, hub.ErrExists):
		return errDeviceExists, err.Error()
	case errors.Is(err, hub.ErrPrecondition):
		return errPreconditionFailed, err.Error()
	case errors.Is(err, hub.ErrDeviceNotOnline):
		return errDeviceNotOnline, "Timed out waiting for device to connect. " + err.Error()
	case errors.Is(err, hub.ErrMethodTimeout):
		return errGatewayTimeout, "Timed out waiting for the response from device. " + err.Error()
	case errors.Is(err, hub.ErrTooLarge):
		return errMessageTooLarge, err.Error()
	}
	return errInternal, err.Error()
}

func (a *API) listDevices(*http.Request, []byte) (int, any, error) {
	devs := a.e.Devices()
	out := make([]deviceJSON, 0, len(devs))
	for _, d := range devs {
		out = append(out, a.deviceOut(d))
	}
	return http.StatusOK, out, nil
}

func (a *API) getDevice(r *http.Request, _ []byte) (int, any, error) {
	d, err := a.e.Device(r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.deviceOut(d), nil
}

// putDevice creates (no If-Match) or replaces (If-Match) an identity, as
// Registry.create / Registry.update send them.
func (a *API) putDevice(r *http.Request, body []byte) (int, any, error) {
	spec, err := DecodeDevice(r.PathValue("id"), body)
	if err != nil {
		return 0, nil, badRequest{err}
	}
	var d hub.Device
	if ifMatch := r.Header.Get("If-Match"); ifMatch != "" {
		d, err = a.e.UpdateDevice(spec, unquote(ifMatch))
	} else {
		d, err = a.e.CreateDevice(spec)
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.deviceOut(d), nil
}

func (a *API) deleteDevice(r *http.Request, _ []byte) (int, any, error) {
	id := r.PathValue("id")
	d, err := a.e.Device(id)
	if err != nil {
		return 0, nil, err
	}
	if err := hubMatch(r.Header.Get("If-Match"), d.ETag()); err != nil {
		return 0, nil, err
	}
	if err := a.e.DeleteDevice(id); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func hubMatch(ifMatch, current string) error {
	m := unquote(ifMatch)
	if m == "" || m == "*" || m == current {
		return nil
	}
	return fmt.Errorf("%w: If-Match %q, current %q", hub.ErrPrecondition, m, current)
}

// unquote strips the quotes the SDKs put around etags (Registry._ensureQuoted).
func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

func (a *API) getTwin(r *http.Request, _ []byte) (int, any, error) {
	d, err := a.e.Device(r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.twinOut(d), nil
}

func (a *API) patchTwin(r *http.Request, body []byte) (int, any, error) {
	id := r.PathValue("id")
	p, err := DecodeTwinPatch(body)
	if err != nil {
		return 0, nil, badRequest{err}
	}
	if _, err := a.e.UpdateTwin(id, unquote(r.Header.Get("If-Match")), p.Tags, p.Desired); err != nil {
		return 0, nil, err
	}
	d, err := a.e.Device(id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.twinOut(d), nil
}

// methodResult is the service API's answer to a direct method.
type methodResult struct {
	Status  int             `json:"status"`
	Payload json.RawMessage `json:"payload"`
}

func (a *API) invokeMethod(r *http.Request, body []byte) (int, any, error) {
	id := r.PathValue("id")
	m, err := DecodeMethodCall(body)
	if err != nil {
		return 0, nil, badRequest{err}
	}
	if _, err := a.e.Device(id); err != nil {
		return 0, nil, err
	}
	if m.ConnectTimeoutInSeconds > 0 {
		a.waitConnected(r.Context(), id, time.Duration(m.ConnectTimeoutInSeconds)*time.Second)
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Duration(m.ResponseTimeoutInSeconds)*time.Second)
	defer cancel()
	var payload []byte
	if len(m.Payload) > 0 {
		payload = m.Payload
	}
	res, err := a.e.InvokeMethod(ctx, id, m.MethodName, payload)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, methodResult{Status: res.Status, Payload: jsonOrString(res.Payload)}, nil
}

// waitConnected waits up to d for the device to connect (the call's
// connectTimeoutInSeconds).
func (a *API) waitConnected(ctx context.Context, id string, d time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for !a.e.Connected(id) {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// jsonOrString returns b when it is JSON, otherwise b as a JSON string; an
// empty answer is null [inf].
func jsonOrString(b []byte) json.RawMessage {
	if len(bytes.TrimSpace(b)) == 0 {
		return json.RawMessage("null")
	}
	if json.Valid(b) {
		return json.RawMessage(b)
	}
	s, _ := json.Marshal(string(b))
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"Message":"ErrorCode:ServerError;encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeHubError writes the hub's error body, whose Message the SDKs split
// into code and text [src azure-iot-sdk-node http.ts parseErrorBody].
func writeHubError(w http.ResponseWriter, e hubError, msg string) {
	msg = strings.ReplaceAll(msg, ";", ",") // the SDK splits on the first ';'
	writeJSON(w, e.status, map[string]any{
		"Message":          "ErrorCode:" + e.code + ";" + msg,
		"ExceptionMessage": "Tracking ID:modemsim-" + strconv.Itoa(e.number) + "-TimeStamp:" + time.Now().UTC().Format(time.RFC3339),
	})
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxBody)); err != nil {
		return nil, fmt.Errorf("request body: %w", err)
	}
	return buf.Bytes(), nil
}
