package serviceapi

import (
	"testing"
)

// The service API's parsers of outside bytes never panic, and what they
// accept is consistent.

func FuzzDecodeDevice(f *testing.F) {
	for _, s := range []string{`{}`, `{"deviceId":"d","status":"disabled","authentication":{"type":"selfSigned","x509Thumbprint":{"primaryThumbprint":"AB"}}}`,
		`{"authentication":{"type":"sas","symmetricKey":{"primaryKey":null}}}`, `[]`, `{"status":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		spec, err := DecodeDevice("d", []byte(body))
		if err == nil && spec.ID != "d" {
			t.Fatalf("id %q", spec.ID)
		}
	})
}

func FuzzDecodeTwinPatch(f *testing.F) {
	for _, s := range []string{`{"tags":{"a":1},"properties":{"desired":{"x":null}}}`, `{"properties":{"reported":{}}}`, `null`, `{"tags":[]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		_, _ = DecodeTwinPatch([]byte(body))
	})
}

func FuzzDecodeMethodCall(f *testing.F) {
	for _, s := range []string{`{"methodName":"m","payload":{"a":1},"responseTimeoutInSeconds":30}`, `{"methodName":""}`, `{"methodName":"m","responseTimeoutInSeconds":1e9}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		m, err := DecodeMethodCall([]byte(body))
		if err == nil && (m.MethodName == "" || m.ResponseTimeoutInSeconds < minMethodTimeout || m.ResponseTimeoutInSeconds > maxMethodTimeout) {
			t.Fatalf("accepted %+v", m)
		}
	})
}

func FuzzDecodeEnrollments(f *testing.F) {
	for _, s := range []string{`{"attestation":{"type":"symmetricKey","symmetricKey":{"primaryKey":"AAAA"}}}`,
		`{"attestation":{"type":"x509","x509":{"signingCertificates":{"primary":{"certificate":"-----BEGIN"}}}}}`,
		`{"attestation":{"type":"x509","x509":{"caReferences":{"primary":"ca"}}},"provisioningStatus":"disabled"}`,
		`{"attestation":{"type":"tpm"}}`, `{"attestation":{"type":"symmetricKey","symmetricKey":{"primaryKey":"!"}}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if g, err := DecodeGroup("g", []byte(body)); err == nil && g.Group.GroupID != "g" {
			t.Fatalf("group id %q", g.Group.GroupID)
		}
		if e, _, err := DecodeIndividual("r", []byte(body)); err == nil && e.RegistrationID != "r" {
			t.Fatalf("registration id %q", e.RegistrationID)
		}
	})
}

func FuzzParseConnectionString(f *testing.F) {
	for _, s := range []string{"HostName=h;SharedAccessKeyName=p;SharedAccessKey=k=", ";;", "a=b=c;", "HostName="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseConnectionString(s)
		if err != nil {
			return
		}
		if p.HostName == "" || p.SharedAccessKeyName == "" || p.SharedAccessKey == "" {
			t.Fatalf("accepted incomplete %+v", p)
		}
	})
}
