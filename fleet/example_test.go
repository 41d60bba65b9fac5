package fleet_test

import (
	"fmt"

	"github.com/modemsim/modemsim/fleet"
)

func ExampleParse() {
	f, err := fleet.Parse([]byte(`
defaults:
  credentials:
    - {tag: 42, type: PSK, pem: "000102030405060708090a0b0c0d0e0f"}
boards:
  - name: alpha
    hardware: {model: nrf9161, imei: "352656100367872"}
  - name: "fleet-{{seq:3}}"
    count: 3
    hardware: {imei: "35265610{{seq:6}}"}
    link: "ttyFLEET{{seq}}"
`), ".")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, b := range f.Boards {
		fmt.Println(b.Name, b.Hardware["imei"], b.Link, b.Credentials[0])
	}
	_, err = fleet.Parse([]byte("boards:\n  - name: a\n    count: 0\n"), ".")
	fmt.Println(err)
	// Output:
	// alpha 352656100367872  42/PSK (inline)
	// fleet-001 352656100000010 ttyFLEET1 42/PSK (inline)
	// fleet-002 352656100000028 ttyFLEET2 42/PSK (inline)
	// fleet-003 352656100000036 ttyFLEET3 42/PSK (inline)
	// line 3: boards[0].count: must be at least 1, not 0
}
