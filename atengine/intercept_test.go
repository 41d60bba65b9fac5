package atengine_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/persona/athost"
	"github.com/modemsim/modemsim/transcript"

	. "github.com/modemsim/modemsim/atengine"
)

func TestInterceptorAnswersInPlaceOfTheHandler(t *testing.T) {
	for _, tc := range []struct {
		name, send, want string
	}{
		{"intercepted", "AT+X=\"fail\"\r\n", "+CME ERROR: 528\r\n"},
		{"passed on", "AT+X=\"ok\"\r\n", "+X: ok\r\nOK\r\n"},
		{"then the next one passes", "AT+X=\"fail\"\r\nAT\r\n", "+CME ERROR: 528\r\nOK\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host, dev := net.Pipe()
			m := &echoModem{}
			e := New(dev, atDialect(m, athost.Bare, athost.DefaultQuoteIdleReset), WithTranscript(transcript.New(nil)),
				WithInterceptor(func(fr atparser.Frame) (Reply, bool) {
					if !strings.Contains(string(fr.Line), "fail") {
						return Reply{}, false
					}
					return Answer(athost.Bare.AppendResponse(nil, atparser.CMEError(528))), true
				}))
			m.e = e
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- e.Run(ctx) }()
			t.Cleanup(func() { cancel(); host.Close(); <-done })
			h := &harness{host: host}
			h.send(t, tc.send)
			h.expect(t, tc.want)
		})
	}
}
