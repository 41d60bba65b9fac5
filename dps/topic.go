package dps

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Topics of the DPS MQTT API (§2.2 [doc P-MQTT; src S-PROV]).
const (
	// ResponseFilter is the only filter a device may subscribe to.
	ResponseFilter = "$dps/registrations/res/#"
	// responsePrefix starts every response topic: `res/{status}/?$rid=…`.
	responsePrefix = "$dps/registrations/res/"
	// registerPrefix is the register request; the query carries $rid.
	registerPrefix = "$dps/registrations/PUT/iotdps-register/?"
	// statusPrefix is the operation-status poll; the query carries $rid and operationId.
	statusPrefix = "$dps/registrations/GET/iotdps-get-operationstatus/?"
)

// ErrTopic marks a publish topic that is not part of the DPS API.
var ErrTopic = errors.New("dps: not a DPS request topic")

// requestKind says which API a publish topic addresses.
type requestKind int

const (
	kindRegister requestKind = iota + 1
	kindOperationStatus
)

func (k requestKind) String() string {
	switch k {
	case kindRegister:
		return "register"
	case kindOperationStatus:
		return "operationStatus"
	}
	return "unknown"
}

// request is a parsed request topic.
type request struct {
	Kind requestKind
	// RID is `$rid` exactly as sent: it is echoed byte for byte (§2.2 "Echo whatever arrives").
	RID string
	// HasRID is false when the topic had no $rid.
	HasRID bool
	// OperationID is the decoded operationId (status polls only).
	OperationID string
}

// parseRequestTopic parses a device publish topic. Query parameters may come
// in any order; unknown ones are ignored (SDKs may add more [inf]).
func parseRequestTopic(topic string) (request, error) {
	var (
		r     request
		query string
	)
	switch {
	case strings.HasPrefix(topic, registerPrefix):
		r.Kind, query = kindRegister, topic[len(registerPrefix):]
	case strings.HasPrefix(topic, statusPrefix):
		r.Kind, query = kindOperationStatus, topic[len(statusPrefix):]
	default:
		return request{}, fmt.Errorf("%w: %q", ErrTopic, topic)
	}
	seenOp := false
	for _, part := range strings.Split(query, "&") {
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		switch name {
		case "$rid":
			if r.HasRID {
				return request{}, fmt.Errorf("%w: duplicate $rid in %q", ErrTopic, topic)
			}
			r.RID, r.HasRID = value, true
		case "operationId":
			if seenOp {
				return request{}, fmt.Errorf("%w: duplicate operationId in %q", ErrTopic, topic)
			}
			op, err := url.QueryUnescape(value)
			if err != nil {
				return request{}, fmt.Errorf("%w: operationId in %q: %v", ErrTopic, topic, err)
			}
			r.OperationID, seenOp = op, true
		}
	}
	if r.Kind == kindOperationStatus && !seenOp {
		return request{}, fmt.Errorf("%w: no operationId in %q", ErrTopic, topic)
	}
	return r, nil
}

// responseTopic builds `$dps/registrations/res/{status}/?$rid={rid}[&retry-after={s}]`.
func responseTopic(status int, rid string, retryAfterSeconds int) string {
	t := responsePrefix + strconv.Itoa(status) + "/?$rid=" + rid
	if retryAfterSeconds > 0 {
		t += "&retry-after=" + strconv.Itoa(retryAfterSeconds)
	}
	return t
}
