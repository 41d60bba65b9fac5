package atparser_test

import (
	"fmt"

	"github.com/modemsim/modemsim/atparser"
)

func Example() {
	// A CRLF host talking to a device in the default terminator mode; the
	// PEM's newlines are inside quotes, so they are content.
	input := []byte("\r\nAT+CGSN\r\nAT%CMNG=0,42,0,\"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\"\r\nat AT+CGSN\r\n")
	fr := atparser.NewFramer()
	var out []atparser.Response
	for p := input; len(p) > 0; {
		n, frame, ok := fr.Scan(p)
		p = p[n:]
		if !ok {
			continue
		}
		cmd, err := atparser.Parse(frame.Line)
		switch {
		case err != nil:
			out = append(out, atparser.Error())
		case cmd.Name == "+CGSN":
			out = append(out, atparser.OK("352656100367872"))
		case cmd.Name == "%CMNG":
			pem, _ := cmd.StringParam(3)
			fmt.Printf("%%CMNG write of %d PEM bytes\n", len(pem))
			out = append(out, atparser.OK())
		}
	}
	for _, r := range out {
		fmt.Println(r.Final, r.Lines)
	}
	// Output:
	// %CMNG write of 58 PEM bytes
	// OK [352656100367872]
	// OK []
	// ERROR []
}
