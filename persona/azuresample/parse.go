package azuresample

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"strconv"
	"strings"
)

// objectItem is cJSON_GetObjectItem: the first member whose name matches
// case-insensitively [S cJSON.c get_object_item(…, false)], or nil.
func objectItem(obj json.RawMessage, name string) (json.RawMessage, bool) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		if ks, ok := k.(string); ok && strings.EqualFold(ks, name) {
			return v, true
		}
	}
	return nil, false
}

// intervalResult is what event_interval_get decides about a twin document.
type intervalResult int

const (
	intervalFound intervalResult = iota
	intervalUnparsable
	intervalMissing
	intervalBadFormat
)

// parseEventInterval is main.c event_interval_get(): the new interval from a
// twin document (GET response: under "desired"; desired patch: at the
// root), -1 when there is none.
func parseEventInterval(doc []byte) (int, intervalResult) {
	if !json.Valid(doc) {
		return -1, intervalUnparsable
	}
	// A GET response holds "desired"; a desired patch is the desired object.
	desired, ok := objectItem(doc, "desired")
	if !ok {
		desired = doc
	}
	v, ok := objectItem(desired, "telemetryInterval")
	if !ok {
		return -1, intervalMissing
	}
	v = bytes.TrimSpace(v)
	switch {
	case len(v) > 0 && v[0] == '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return -1, intervalBadFormat
		}
		return atoi(s), intervalFound
	case len(v) > 0 && (v[0] == '-' || v[0] >= '0' && v[0] <= '9'):
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return -1, intervalBadFormat
		}
		return valueInt(f), intervalFound
	}
	return -1, intervalBadFormat
}

// atoi is C's atoi: leading space, a sign, digits; 0 when none.
func atoi(s string) int {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	n := int64(0)
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int64(s[i]-'0')
		if n > math.MaxInt32+1 {
			n = math.MaxInt32 + 1 // undefined in C; saturate
		}
	}
	if neg {
		n = -n
	}
	return int(max(min(n, math.MaxInt32), math.MinInt32))
}

// valueInt is cJSON's valueint: the double saturated to int [S cJSON.c].
func valueInt(f float64) int {
	switch {
	case f >= math.MaxInt32:
		return math.MaxInt32
	case f <= math.MinInt32:
		return math.MinInt32
	case math.IsNaN(f):
		return 0
	}
	return int(f)
}

// dpsResponse is a parsed `$dps/registrations/res/…` message, the fields
// az_iot_provisioning_client_parse_received_topic_and_payload reads
// [S azure-sdk-for-c az_iot_provisioning_client.c; azure-iot-hub.md §2.2].
type dpsResponse struct {
	Status      int
	RetryAfter  int
	OperationID string
	OpStatus    string // unassigned, assigning, assigned, failed, disabled
	AssignedHub string
	DeviceID    string
	ErrorCode   int
	ErrorMsg    string
}

var errNotDPSResponse = errors.New("not a registration response")

// parseDPSResponse parses topic and payload; errNotDPSResponse when the
// SDK would refuse them.
func parseDPSResponse(topic string, payload []byte) (dpsResponse, error) {
	rest, ok := strings.CutPrefix(topic, "$dps/registrations/res/")
	if !ok {
		return dpsResponse{}, errNotDPSResponse
	}
	code, query, _ := strings.Cut(rest, "/")
	st, err := strconv.Atoi(code)
	if err != nil || st < 100 || st > 599 {
		return dpsResponse{}, errNotDPSResponse
	}
	r := dpsResponse{Status: st}
	q, err := url.ParseQuery(strings.TrimPrefix(query, "?"))
	if err == nil {
		if ra, err := strconv.Atoi(q.Get("retry-after")); err == nil && ra > 0 {
			r.RetryAfter = ra
		}
	}
	var body struct {
		OperationID       string `json:"operationId"`
		Status            string `json:"status"`
		ErrorCode         int    `json:"errorCode"`
		Message           string `json:"message"`
		RegistrationState *struct {
			AssignedHub  string `json:"assignedHub"`
			DeviceID     string `json:"deviceId"`
			ErrorCode    int    `json:"errorCode"`
			ErrorMessage string `json:"errorMessage"`
		} `json:"registrationState"`
	}
	if err := json.Unmarshal(payload, &body); err != nil {
		return dpsResponse{}, errNotDPSResponse
	}
	r.OperationID, r.OpStatus, r.ErrorCode, r.ErrorMsg = body.OperationID, body.Status, body.ErrorCode, body.Message
	if rs := body.RegistrationState; rs != nil {
		r.AssignedHub, r.DeviceID = rs.AssignedHub, rs.DeviceID
		if rs.ErrorCode != 0 {
			r.ErrorCode, r.ErrorMsg = rs.ErrorCode, rs.ErrorMessage
		}
	}
	// The SDK needs operationId and status unless an error code is given.
	if r.ErrorCode == 0 && (r.OperationID == "" || r.OpStatus == "") {
		return dpsResponse{}, errNotDPSResponse
	}
	return r, nil
}

// complete is az_iot_provisioning_client_operation_complete.
func (r dpsResponse) complete() bool {
	switch r.OpStatus {
	case "assigned", "failed", "disabled":
		return true
	}
	return false
}

// methodRequest is a parsed `$iothub/methods/POST/{name}/?$rid={rid}`.
func parseMethodTopic(topic string) (name, rid string, ok bool) {
	rest, ok := strings.CutPrefix(topic, "$iothub/methods/POST/")
	if !ok {
		return "", "", false
	}
	name, query, _ := strings.Cut(rest, "/")
	q, _ := url.ParseQuery(strings.TrimPrefix(query, "?"))
	return name, q.Get("$rid"), true
}

// parseTwinTopic parses `$iothub/twin/res/{status}/?$rid=…` and
// `$iothub/twin/PATCH/properties/desired/?$version=…`.
func parseTwinTopic(topic string) (status int, rid string, desired, ok bool) {
	if strings.HasPrefix(topic, "$iothub/twin/PATCH/properties/desired/") {
		return 0, "", true, true
	}
	rest, ok := strings.CutPrefix(topic, "$iothub/twin/res/")
	if !ok {
		return 0, "", false, false
	}
	code, query, _ := strings.Cut(rest, "/")
	st, err := strconv.Atoi(code)
	if err != nil {
		return 0, "", false, false
	}
	q, _ := url.ParseQuery(strings.TrimPrefix(query, "?"))
	return st, q.Get("$rid"), false, true
}

// isC2DTopic is az_iot_hub_client_c2d_parse_received_topic's test.
func isC2DTopic(topic string) bool {
	return strings.HasPrefix(topic, "devices/") && strings.Contains(topic, "/messages/devicebound/")
}
