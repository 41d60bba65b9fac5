package hub

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseUsername(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in       string
		host, id string
		mod      string
		query    string
		err      bool
	}{
		{"h.azure-devices.net/dev1/?api-version=2021-04-12", "h.azure-devices.net", "dev1", "", "api-version=2021-04-12", false},
		{"h/dev1/?api-version=2020-09-30&DeviceClientType=azsdk-c%2F1.0&model-id=dtmi%3Ax%3B1", "h", "dev1", "", "api-version=2020-09-30&DeviceClientType=azsdk-c%2F1.0&model-id=dtmi%3Ax%3B1", false},
		{"h/dev1/api-version=2016-11-14&DeviceClientType=c", "h", "dev1", "", "api-version=2016-11-14&DeviceClientType=c", false},
		{"h/dev1", "h", "dev1", "", "", false},
		{"h/dev1/", "h", "dev1", "", "", false},
		{"h/dev1/mod1/?api-version=2021-04-12", "h", "dev1", "mod1", "api-version=2021-04-12", false},
		{"h", "", "", "", "", true},
		{"/dev1", "", "", "", "", true},
		{"a/b/c/d", "", "", "", "", true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			id, err := ParseUsername(tc.in)
			if tc.err {
				require.ErrorIs(t, err, ErrInvalid)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, Identity{Host: tc.host, DeviceID: tc.id, ModuleID: tc.mod, Query: tc.query}, id)
		})
	}
}

func TestParsePropertyBag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in       string
		app, sys map[string]string
	}{
		{"", map[string]string{}, map[string]string{}},
		{"?a=1&b=x%20y", map[string]string{"a": "1", "b": "x y"}, map[string]string{}},
		{"%24.ct=application%2Fjson&%24.ce=utf-8&flag", map[string]string{"flag": ""}, map[string]string{"ct": "application/json", "ce": "utf-8"}},
		{"$.mid=7&k=", map[string]string{"k": ""}, map[string]string{"mid": "7"}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			app, sys, err := ParsePropertyBag(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.app, app)
			assert.Equal(t, tc.sys, sys)
		})
	}
	_, _, err := ParsePropertyBag("a=%zz")
	require.ErrorIs(t, err, ErrInvalid)
}

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		topic string
		kind  topicKind
	}{
		{"devices/d/messages/events/", kindTelemetry},
		{"devices/d/messages/events", kindTelemetry},
		{"devices/d/messages/events/a=b", kindTelemetry},
		{"devices/e/messages/events/", kindInvalid},
		{"$iothub/twin/GET/?$rid=1", kindTwinGet},
		{"$iothub/twin/GET/", kindInvalid},
		{"$iothub/twin/PATCH/properties/reported/?$rid=1", kindTwinReported},
		{"$iothub/methods/res/200/?$rid=1", kindMethodResponse},
		{"$iothub/methods/res/x/?$rid=1", kindInvalid},
		{"devices/d/messages/devicebound/", kindInvalid},
	} {
		assert.Equal(t, tc.kind, classifyPublish("d", tc.topic).kind, tc.topic)
	}
	for _, tc := range []struct {
		filter string
		kind   topicKind
	}{
		{"devices/d/messages/devicebound/#", kindSubC2D},
		{"devices/+/messages/devicebound/#", kindSubC2D},
		{"devices/d/messages/#", kindSubMessages},
		{"devices/e/messages/devicebound/#", kindInvalid},
		{"$iothub/twin/res/#", kindSubTwinResponse},
		{"$iothub/twin/PATCH/properties/desired/#", kindSubTwinDesired},
		{"$iothub/methods/POST/#", kindSubMethods},
		{"#", kindInvalid},
		{"$iothub/#", kindInvalid},
	} {
		assert.Equal(t, tc.kind, classifyFilter("d", tc.filter), tc.filter)
	}
	v, ok := queryValue("$rid=a%2Fb&$version=3", "$rid")
	assert.True(t, ok)
	assert.Equal(t, "a%2Fb", v)
}

func FuzzParseUsername(f *testing.F) {
	for _, s := range []string{"h/d/?api-version=1", "h/d/api-version=1", "h/d/m/", "h", "//?", "a/b/c/api-version=x/y?z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseUsername(s)
		if err != nil {
			return
		}
		if id.Host == "" || id.DeviceID == "" {
			t.Fatalf("empty identity from %q: %+v", s, id)
		}
		if strings.Contains(id.DeviceID, "/") || strings.Contains(id.Host, "/") || strings.Contains(id.ModuleID, "/") {
			t.Fatalf("slash in a segment from %q: %+v", s, id)
		}
	})
}

func FuzzParsePropertyBag(f *testing.F) {
	for _, s := range []string{"", "?a=b", "%24.ct=x&k", "a=%zz", "&&=&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		app, sys, err := ParsePropertyBag(s)
		if err != nil {
			return
		}
		// What the hub renders must parse back to the same properties.
		app2, sys2, err := ParsePropertyBag(encodePropertyBag(sys, app))
		require.NoError(t, err)
		require.Equal(t, app, app2)
		require.Equal(t, sys, sys2)
	})
}

func FuzzClassifyPublish(f *testing.F) {
	for _, s := range []string{"devices/d/messages/events/a=1", "$iothub/twin/GET/?$rid=1", "$iothub/methods/res/200/?$rid=9", "$iothub/methods/res//?"} {
		f.Add("d", s)
	}
	f.Fuzz(func(t *testing.T, dev, topic string) {
		pt := classifyPublish(dev, topic)
		switch pt.kind {
		case kindTelemetry:
			require.True(t, strings.HasPrefix(topic, "devices/"+dev+"/messages/events"))
		case kindTwinGet, kindTwinReported, kindMethodResponse:
			require.True(t, strings.HasPrefix(topic, "$iothub/"))
		}
		_ = classifyFilter(dev, topic)
		_, _ = queryValue(topic, "$rid")
	})
}
