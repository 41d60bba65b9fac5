package hub

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Identity is what the CONNECT username names.
type Identity struct {
	Host     string
	DeviceID string
	ModuleID string
	// Query is the raw part after `?` (or from `api-version=` on), possibly empty.
	Query string
}

// ParseUsername parses `{host}/{deviceId}[/{moduleId}]/?api-version=…` and the
// variants real clients send: no `?` before `api-version=` (old C SDK), a bare
// `{host}/{deviceId}`, extra query fields (§1.2 [doc D-MQTT; obs; inf parse rule]).
func ParseUsername(u string) (Identity, error) {
	var id Identity
	rest := u
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		id.Query = rest[i+1:]
		rest = rest[:i]
	}
	segs := strings.Split(rest, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, apiVersionPrefix) {
			if id.Query == "" {
				id.Query = strings.Join(segs[i:], "/")
			}
			segs = segs[:i]
			break
		}
	}
	for len(segs) > 0 && segs[len(segs)-1] == "" { // trailing slash before `?`
		segs = segs[:len(segs)-1]
	}
	switch len(segs) {
	case 2:
		id.Host, id.DeviceID = segs[0], segs[1]
	case 3:
		id.Host, id.DeviceID, id.ModuleID = segs[0], segs[1], segs[2]
	default:
		return id, fmt.Errorf("%w: username %q: want {host}/{deviceId}[/{moduleId}]/?api-version=…", ErrInvalid, u)
	}
	if id.Host == "" || id.DeviceID == "" {
		return id, fmt.Errorf("%w: username %q: empty host or device id", ErrInvalid, u)
	}
	return id, nil
}

// topicKind classifies device publishes and subscriptions.
type topicKind int

const (
	kindInvalid topicKind = iota
	kindTelemetry
	kindTwinGet
	kindTwinReported
	kindMethodResponse
	kindSubC2D          // devices/{id}/messages/devicebound/# (or +)
	kindSubMessages     // devices/{id}/messages/# (receives C2D too, §1.6 [doc D-TUT])
	kindSubTwinResponse // $iothub/twin/res/#
	kindSubTwinDesired  // $iothub/twin/PATCH/properties/desired/#
	kindSubMethods      // $iothub/methods/POST/#
)

// Documented topic texts (§1.6 [doc D-MQTT]).
const (
	twinGetPrefix      = "$iothub/twin/GET/"
	twinReportedPrefix = "$iothub/twin/PATCH/properties/reported/"
	twinResPrefix      = "$iothub/twin/res/"
	twinDesiredPrefix  = "$iothub/twin/PATCH/properties/desired/"
	methodsPostPrefix  = "$iothub/methods/POST/"
	methodsResPrefix   = "$iothub/methods/res/"
	filterTwinRes      = "$iothub/twin/res/#"
	filterTwinDesired  = "$iothub/twin/PATCH/properties/desired/#"
	filterMethods      = "$iothub/methods/POST/#"
)

// publishTopic is a parsed device→hub publish topic.
type publishTopic struct {
	kind   topicKind
	bag    string // telemetry property bag (raw)
	query  string // part after `?` for $iothub topics
	status int    // method response status
}

// classifyPublish parses a device publish topic for deviceID.
func classifyPublish(deviceID, topic string) publishTopic {
	events := "devices/" + deviceID + "/messages/events/"
	switch {
	case strings.HasPrefix(topic, events):
		return publishTopic{kind: kindTelemetry, bag: topic[len(events):]}
	case topic == "devices/"+deviceID+"/messages/events":
		return publishTopic{kind: kindTelemetry}
	case strings.HasPrefix(topic, twinGetPrefix+"?"):
		return publishTopic{kind: kindTwinGet, query: topic[len(twinGetPrefix)+1:]}
	case strings.HasPrefix(topic, twinReportedPrefix+"?"):
		return publishTopic{kind: kindTwinReported, query: topic[len(twinReportedPrefix)+1:]}
	case strings.HasPrefix(topic, methodsResPrefix):
		rest := topic[len(methodsResPrefix):]
		st, q, ok := strings.Cut(rest, "/?")
		if !ok {
			return publishTopic{}
		}
		n, err := strconv.Atoi(st)
		if err != nil {
			return publishTopic{}
		}
		return publishTopic{kind: kindMethodResponse, status: n, query: q}
	}
	return publishTopic{}
}

// classifyFilter checks a SUBSCRIBE filter against the documented ones
// (§1.6 [doc D-MQTT, D-TUT; src S-HUB, S-NRF]).
func classifyFilter(deviceID, filter string) topicKind {
	switch filter {
	case "devices/" + deviceID + "/messages/devicebound/#", "devices/+/messages/devicebound/#":
		return kindSubC2D
	case "devices/" + deviceID + "/messages/#":
		return kindSubMessages
	case filterTwinRes:
		return kindSubTwinResponse
	case filterTwinDesired:
		return kindSubTwinDesired
	case filterMethods:
		return kindSubMethods
	}
	return kindInvalid
}

// queryValue returns the raw (undecoded) value of key in a `k=v&…` query,
// so `$rid` can be echoed byte for byte (§1.6 [doc D-MQTT]).
func queryValue(q, key string) (string, bool) {
	for _, kv := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if k == key {
			return v, true
		}
	}
	return "", false
}

// ParsePropertyBag splits a telemetry property bag into application and
// system properties. A leading `?` is tolerated (Nordic
// AZURE_IOT_HUB_TOPIC_PROPERTY_BAG_PREFIX, §1.6 [src S-NRF]); keys and values
// are URL-decoded; `$.x` keys (sent as `%24.x` by the C SDK) are system
// properties, returned without the `$.` prefix (§1.6 [doc D-MQTT; src S-C]).
func ParsePropertyBag(bag string) (app, sys map[string]string, err error) {
	app, sys = map[string]string{}, map[string]string{}
	bag = strings.TrimPrefix(bag, "?")
	bag = strings.TrimSuffix(bag, "/")
	if bag == "" {
		return app, sys, nil
	}
	for _, kv := range strings.Split(bag, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		dk, err := url.QueryUnescape(k)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: property key %q: %v", ErrInvalid, k, err)
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: property value %q: %v", ErrInvalid, v, err)
		}
		if name, ok := strings.CutPrefix(dk, "$."); ok {
			sys[name] = dv
		} else {
			app[dk] = dv
		}
	}
	return app, sys, nil
}

// encodePropertyBag renders properties for a hub→device topic; system
// properties get the `%24.` prefix as in the real C2D example (§1.6 [doc D-TUT]).
// Keys are sorted for deterministic topics.
func encodePropertyBag(sys, app map[string]string) string {
	var parts []string
	for _, k := range sortedKeys(sys) {
		parts = append(parts, "%24."+url.QueryEscape(k)+"="+url.QueryEscape(sys[k]))
	}
	for _, k := range sortedKeys(app) {
		parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(app[k]))
	}
	return strings.Join(parts, "&")
}
