package azuresample

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEventInterval(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want int
		res  intervalResult
	}{
		{`{"desired":{"telemetryInterval":60,"$version":2},"reported":{}}`, 60, intervalFound},
		{`{"telemetryInterval":5,"$version":3}`, 5, intervalFound},        // a desired patch
		{`{"telemetryInterval":"15s"}`, 15, intervalFound},                // atoi
		{`{"TelemetryInterval":7}`, 7, intervalFound},                     // cJSON_GetObjectItem ignores case
		{`{"telemetryInterval":2.9}`, 2, intervalFound},                   // valueint truncates
		{`{"telemetryInterval":1e20}`, math.MaxInt32, intervalFound},      // and saturates
		{`{"telemetryInterval":true}`, -1, intervalBadFormat},             // neither string nor number
		{`{"desired":{"$version":1},"reported":{}}`, -1, intervalMissing}, // the forum's twin
		{`{"desired":5,"telemetryInterval":3}`, -1, intervalMissing},      // desired is not an object
		{`not json`, -1, intervalUnparsable},
		{`[1,2]`, -1, intervalMissing},
	} {
		n, r := parseEventInterval([]byte(tc.doc))
		assert.Equal(t, tc.want, n, tc.doc)
		assert.Equal(t, tc.res, r, tc.doc)
	}
}

func TestParseDPSResponse(t *testing.T) {
	r, err := parseDPSResponse("$dps/registrations/res/202/?$rid=1&retry-after=3", []byte(`{"operationId":"4.abc","status":"assigning"}`))
	require.NoError(t, err)
	assert.Equal(t, dpsResponse{Status: 202, RetryAfter: 3, OperationID: "4.abc", OpStatus: "assigning"}, r)
	assert.False(t, r.complete())

	r, err = parseDPSResponse("$dps/registrations/res/200/?$rid=1", []byte(`{"operationId":"4.abc","status":"assigned","registrationState":{"assignedHub":"h.azure-devices.net","deviceId":"d"}}`))
	require.NoError(t, err)
	assert.True(t, r.complete())
	assert.Equal(t, "h.azure-devices.net", r.AssignedHub)

	r, err = parseDPSResponse("$dps/registrations/res/401/?$rid=1", []byte(`{"errorCode":401002,"message":"Invalid certificate."}`))
	require.NoError(t, err)
	assert.Equal(t, 401002, r.ErrorCode)

	for _, bad := range []struct{ topic, body string }{
		{"$iothub/twin/res/200/?$rid=1", `{}`},
		{"$dps/registrations/res/abc/", `{}`},
		{"$dps/registrations/res/200/?$rid=1", `{"status":"assigned"}`},
		{"$dps/registrations/res/200/?$rid=1", `nope`},
	} {
		_, err := parseDPSResponse(bad.topic, []byte(bad.body))
		assert.ErrorIs(t, err, errNotDPSResponse, bad)
	}
}

func TestTopics(t *testing.T) {
	name, rid, ok := parseMethodTopic("$iothub/methods/POST/led/?$rid=7")
	assert.True(t, ok)
	assert.Equal(t, "led", name)
	assert.Equal(t, "7", rid)
	st, rid, desired, ok := parseTwinTopic("$iothub/twin/res/204/?$rid=750&$version=3")
	assert.True(t, ok)
	assert.False(t, desired)
	assert.Equal(t, 204, st)
	assert.Equal(t, "750", rid)
	_, _, desired, ok = parseTwinTopic("$iothub/twin/PATCH/properties/desired/?$version=4")
	assert.True(t, ok && desired)
	assert.True(t, isC2DTopic("devices/d/messages/devicebound/%24.mid=1"))
	assert.False(t, isC2DTopic("devices/d/messages/events/"))
}

func TestAtoi(t *testing.T) {
	for in, want := range map[string]int{"": 0, " 42x": 42, "-7": -7, "+3": 3, "99999999999": math.MaxInt32, "-99999999999": math.MinInt32, "x1": 0} {
		assert.Equal(t, want, atoi(in), in)
	}
}

// Twin documents, DPS responses and topics come from the network.
func FuzzEventInterval(f *testing.F) {
	for _, s := range []string{`{"desired":{"telemetryInterval":60}}`, `{"telemetryInterval":"5"}`, `{"a":[1,{"b":2}]}`, `{`, `{"telemetryInterval":-1e400}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		n, r := parseEventInterval(doc)
		if r != intervalFound && n != -1 {
			t.Fatalf("no interval but %d", n)
		}
	})
}

func FuzzParseDPSResponse(f *testing.F) {
	f.Add("$dps/registrations/res/202/?$rid=1&retry-after=3", []byte(`{"operationId":"4.a","status":"assigning"}`))
	f.Add("$dps/registrations/res/401/?$rid=1", []byte(`{"errorCode":401002}`))
	f.Add("$dps/registrations/res/200/", []byte(`{"operationId":"x","status":"assigned","registrationState":{"assignedHub":"h","deviceId":"d"}}`))
	f.Fuzz(func(t *testing.T, topic string, body []byte) {
		r, err := parseDPSResponse(topic, body)
		if err != nil {
			return
		}
		if r.Status < 100 || r.Status > 599 || r.RetryAfter < 0 {
			t.Fatalf("accepted %+v", r)
		}
		if r.ErrorCode == 0 && (r.OperationID == "" || r.OpStatus == "") {
			t.Fatalf("accepted without operation: %+v", r)
		}
	})
}

func FuzzHubTopics(f *testing.F) {
	for _, s := range []string{"$iothub/methods/POST/led/?$rid=1", "$iothub/twin/res/200/?$rid=73", "$iothub/twin/PATCH/properties/desired/?$version=2", "devices/x/messages/devicebound/a=b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, topic string) {
		if name, _, ok := parseMethodTopic(topic); ok && strings.Contains(name, "/") {
			t.Fatalf("method name %q has a slash", name)
		}
		_, _, _, _ = parseTwinTopic(topic)
		_ = isC2DTopic(topic)
	})
}

func BenchmarkFormatLine(b *testing.B) {
	m := Msg{Mod: ModSample, Level: LevelInf, Format: "Sending event:%s"}
	for b.Loop() {
		_ = FormatLine(7394226*time.Microsecond, m, `Sending event:{"temperature":25.4,"timestamp":7394}`)
	}
}

func BenchmarkEventInterval(b *testing.B) {
	doc := []byte(`{"desired":{"telemetryInterval":60,"$version":2},"reported":{"telemetryInterval":20,"$version":5}}`)
	for b.Loop() {
		_, _ = parseEventInterval(doc)
	}
}
