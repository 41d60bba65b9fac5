package spwf04

import (
	"fmt"
	"strconv"
)

// Code is an SPWF04 error number, answered as `AT-S.ERROR:<n>:<text>`.
type Code int

// The error numbers the simulation uses by name; the text of every number
// is in errorText.
const (
	ErrCommandNotFound   Code = 1
	ErrMissingArgs       Code = 2
	ErrVarNotFound       Code = 4
	ErrTooManyArgs       Code = 6
	ErrInvalidArgs       Code = 7
	ErrRadioNotRunning   Code = 18
	ErrExceedsSize       Code = 32
	ErrZero              Code = 33
	ErrOpenFile          Code = 51
	ErrSeekFile          Code = 52
	ErrReadDir           Code = 58
	ErrReadFile          Code = 53
	ErrRenameFile        Code = 55
	ErrDeleteFile        Code = 56
	ErrIPNotReady        Code = 60
	ErrClosedSocket      Code = 72
	ErrOpenSocket        Code = 74
	ErrTooManySockets    Code = 75
	ErrPendingData       Code = 77
	ErrIllegalSocketID   Code = 76
	ErrSocketNotConn     Code = 78
	ErrWriteFailed       Code = 79
	ErrFailedReadFlash   Code = 100
	ErrFailedWriteFlash  Code = 101
	ErrRequestFailed     Code = 111
	errFirstUnusedNumber Code = 112
)

// errorText is the firmware's error table, verbatim: ST's X-CUBE-WIFI1
// enum.c "Error Codes for SPWF04SA"; 75–78 and 111 also confirmed by UART
// parsers and the forum transcript [S spwf04.md §2]. Numbers not listed
// are unused. The string array's placeholder slots (14, 15, 34, 37, 38, 46)
// are not error codes and are left out on purpose.
var errorText = map[Code]string{
	1:   "Command not found",
	2:   "Missing argument(s)",
	4:   "Variable not found",
	6:   "Too many argument(s)",
	7:   "Invalid argument(s)",
	18:  "Radio not running",
	19:  "Direction must be 'in' or 'out'",
	20:  "Invalid GPIO Num (0-15)",
	21:  "Cannot use GPIO6 when sleep_enabled",
	22:  "Cannot use GPIO7. Reserved for WPS feature",
	23:  "Cannot use GPIO10 when blink_led",
	24:  "Cannot use GPIO3 when spi_console",
	25:  "Output voltage not allowed",
	26:  "Frequency not supported",
	27:  "Duty cycle not supported",
	28:  "PWM not running",
	29:  "Volume not mounted",
	32:  "Argument exceeds allowed size",
	33:  "Argument evaluated to zero",
	39:  "PIN needs to be 8 digits",
	40:  "Scan in Progress",
	41:  "Scan Failed",
	42:  "Wait for Hardware Busy",
	43:  "Wait for Hardware Starting",
	44:  "Unable to complete PWM setting",
	47:  "ADC conversion failed",
	50:  "Unable to access RAM filesystem",
	51:  "Unable to open file",
	52:  "Unable to seek file",
	53:  "Unable to read file",
	54:  "Unable to close file",
	55:  "Unable to rename file",
	56:  "Unable to delete file",
	57:  "Unable to open directory",
	58:  "Unable to read directory",
	59:  "Unable to unmount volume",
	60:  "IP not ready to send",
	61:  "Cannot renew IP address",
	62:  "Failed to renew IP address",
	63:  "DNS busy",
	64:  "DNS start failed",
	65:  "DNS address failure",
	66:  "Cannot update DateTime",
	72:  "Closed socket",
	73:  "Port already opened",
	74:  "Failed to open socket",
	75:  "Too many sockets",
	76:  "Illegal Socket ID",
	77:  "Pending data",
	78:  "Socket not connected",
	79:  "Write failed",
	80:  "No valid HTTP Client Instance ID",
	81:  "HTTP Client busy",
	82:  "Failed to release HTTP Client Instance",
	91:  "Low Memory",
	99:  "Scan Aborted",
	100: "Failed to read flash",
	101: "Failed to write flash",
	110: "Mfg test failed",
	111: "Request failed",
}

// Known reports whether n is a number of the table.
func (c Code) Known() bool { _, ok := errorText[c]; return ok }

// Text is the number's text.
func (c Code) Text() string { return errorText[c] }

// Error makes a Code an error a handler can return.
func (c Code) Error() string { return "AT-S.ERROR:" + strconv.Itoa(int(c)) + ":" + c.Text() }

// Line is the answer's final line without its CR LF.
func (c Code) Line() string { return c.Error() }

// parseCode reads a setting that names an error number, refusing numbers
// outside the table so a typo cannot invent a code.
func parseCode(name string, n int) (Code, error) {
	c := Code(n)
	if !c.Known() {
		return 0, fmt.Errorf("%s: %d is not an SPWF04 error number", name, n)
	}
	return c, nil
}
