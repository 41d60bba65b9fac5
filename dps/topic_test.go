package dps

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRequestTopic(t *testing.T) {
	tests := []struct {
		name    string
		topic   string
		want    request
		wantErr string
	}{
		{name: "register", topic: "$dps/registrations/PUT/iotdps-register/?$rid=1",
			want: request{Kind: kindRegister, RID: "1", HasRID: true}},
		{name: "rid kept raw", topic: "$dps/registrations/PUT/iotdps-register/?$rid=a%2Fb%20c",
			want: request{Kind: kindRegister, RID: "a%2Fb%20c", HasRID: true}},
		{name: "no rid", topic: "$dps/registrations/PUT/iotdps-register/?",
			want: request{Kind: kindRegister}},
		{name: "status", topic: "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=7&operationId=4.abc.def",
			want: request{Kind: kindOperationStatus, RID: "7", HasRID: true, OperationID: "4.abc.def"}},
		{name: "status any order, extra params", topic: "$dps/registrations/GET/iotdps-get-operationstatus/?operationId=4.x%2Ey&foo=bar&$rid=",
			want: request{Kind: kindOperationStatus, RID: "", HasRID: true, OperationID: "4.x.y"}},
		{name: "status without op", topic: "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=1", wantErr: "no operationId"},
		{name: "dup rid", topic: "$dps/registrations/PUT/iotdps-register/?$rid=1&$rid=2", wantErr: "duplicate $rid"},
		{name: "bad op escape", topic: "$dps/registrations/GET/iotdps-get-operationstatus/?operationId=%zz", wantErr: "operationId"},
		{name: "hub topic", topic: "devices/dev1/messages/events/", wantErr: "not a DPS request topic"},
		{name: "response topic", topic: "$dps/registrations/res/200/?$rid=1", wantErr: "not a DPS request topic"},
		{name: "no query", topic: "$dps/registrations/PUT/iotdps-register/", wantErr: "not a DPS request topic"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseRequestTopic(tc.topic)
			if tc.wantErr != "" {
				require.ErrorIs(t, err, ErrTopic)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestResponseTopic(t *testing.T) {
	assert.Equal(t, "$dps/registrations/res/202/?$rid=a%2F1&retry-after=3", responseTopic(202, "a%2F1", 3))
	assert.Equal(t, "$dps/registrations/res/200/?$rid=1", responseTopic(200, "1", 0))
}

func TestParseUsername(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    identity
		wantErr bool
	}{
		{name: "docs", in: "0ne00000000/registrations/dev1/api-version=2019-03-31",
			want: identity{IDScope: "0ne00000000", RegistrationID: "dev1", APIVersion: "2019-03-31"}},
		{name: "embedded C", in: "0ne00000000/registrations/dev1/api-version=2019-03-31&ClientVersion=azsdk-c%2F1.5.0",
			want: identity{IDScope: "0ne00000000", RegistrationID: "dev1", APIVersion: "2019-03-31"}},
		{name: "C SDK", in: "0ne1/registrations/dev-1/api-version=2021-06-01&ClientVersion=1.9.0",
			want: identity{IDScope: "0ne1", RegistrationID: "dev-1", APIVersion: "2021-06-01"}},
		{name: "question mark", in: "0ne1/registrations/dev1/?api-version=2021-06-01",
			want: identity{IDScope: "0ne1", RegistrationID: "dev1", APIVersion: "2021-06-01"}},
		{name: "bare", in: "0ne1/registrations/dev1", want: identity{IDScope: "0ne1", RegistrationID: "dev1"}},
		{name: "hub style", in: "myhub.azure-devices.net/dev1/?api-version=2021-04-12", wantErr: true},
		{name: "no scope", in: "/registrations/dev1/api-version=1", wantErr: true},
		{name: "no reg id", in: "0ne1/registrations//api-version=1", wantErr: true},
		{name: "empty", in: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseUsername(tc.in)
			if tc.wantErr {
				require.ErrorIs(t, err, ErrUsername)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func FuzzParseRequestTopic(f *testing.F) {
	f.Add("$dps/registrations/PUT/iotdps-register/?$rid=1")
	f.Add("$dps/registrations/GET/iotdps-get-operationstatus/?$rid=7&operationId=4.abc.def")
	f.Add("$dps/registrations/GET/iotdps-get-operationstatus/?operationId=%zz&$rid=&&")
	f.Fuzz(func(t *testing.T, topic string) {
		r, err := parseRequestTopic(topic)
		if err != nil {
			require.ErrorIs(t, err, ErrTopic)
			return
		}
		require.Contains(t, []requestKind{kindRegister, kindOperationStatus}, r.Kind)
		require.True(t, strings.HasPrefix(topic, registerPrefix) || strings.HasPrefix(topic, statusPrefix))
		if r.HasRID {
			// The rid is echoed byte for byte: it must be a substring of the request.
			require.Contains(t, topic, "$rid="+r.RID)
			require.NotContains(t, r.RID, "&")
		}
	})
}

func FuzzParseUsername(f *testing.F) {
	f.Add("0ne00000000/registrations/dev1/api-version=2019-03-31&ClientVersion=x")
	f.Add("a/registrations/b?api-version=1")
	f.Fuzz(func(t *testing.T, u string) {
		id, err := parseUsername(u)
		if err != nil {
			require.ErrorIs(t, err, ErrUsername)
			return
		}
		require.NotEmpty(t, id.IDScope)
		require.NotEmpty(t, id.RegistrationID)
		require.NotContains(t, id.RegistrationID, "/")
		require.NotContains(t, id.RegistrationID, "?")
	})
}
