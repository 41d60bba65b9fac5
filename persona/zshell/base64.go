package zshell

// Zephyr's base64_decode (lib/utils/base64.c, from mbed TLS) [S]: spaces
// before a line end and CR/LF are skipped, a space inside a line, more than
// two '=' or a data character after '=' is -EINVAL, and a trailing group
// shorter than four characters is dropped without an error.
const (
	b64Invalid = 127
	b64Pad     = 64
)

var b64DecMap = func() [256]byte {
	var m [256]byte
	for i := range m {
		m[i] = b64Invalid
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(alphabet); i++ {
		m[alphabet[i]] = byte(i)
	}
	m['='] = b64Pad
	return m
}()

// zephyrBase64Decode returns the decoded bytes or a negative errno.
func zephyrBase64Decode(src []byte) ([]byte, int) {
	var i, n, j int
	for i = 0; i < len(src); i++ {
		x := 0
		for i < len(src) && src[i] == ' ' {
			i++
			x++
		}
		if i == len(src) {
			break
		}
		if len(src)-i >= 2 && src[i] == '\r' && src[i+1] == '\n' {
			continue
		}
		if src[i] == '\n' {
			continue
		}
		if x != 0 {
			return nil, -EINVAL
		}
		if src[i] == '=' {
			j++
			if j > 2 {
				return nil, -EINVAL
			}
		}
		if src[i] > 127 || b64DecMap[src[i]] == b64Invalid {
			return nil, -EINVAL
		}
		if b64DecMap[src[i]] < 64 && j != 0 {
			return nil, -EINVAL
		}
		n++
	}
	if n == 0 {
		return []byte{}, 0
	}
	out := make([]byte, 0, n*3/4+3)
	var x uint32
	k, groups := 3, 0
	for _, c := range src[:i] {
		if c == '\r' || c == '\n' || c == ' ' {
			continue
		}
		if b64DecMap[c] == b64Pad {
			k--
		}
		x = x<<6 | uint32(b64DecMap[c]&0x3f)
		groups++
		if groups == 4 {
			groups = 0
			if k > 0 {
				out = append(out, byte(x>>16))
			}
			if k > 1 {
				out = append(out, byte(x>>8))
			}
			if k > 2 {
				out = append(out, byte(x))
			}
		}
	}
	return out, 0
}
